"""The player's stylesheet and script, inlined into every player (no file, no network).

The script runs where it stands, whenever that is: at page load, or later when the
player's HTML is inserted into a page and its script re-created (JupyterLab does this
for outputs). It finds its player as the closest .cow-player of document.currentScript,
or else the last player with its id that has not started, and reads the frames from
the player's <script type="application/json" class="cow-data">:

    {"steps": N, "interval": ms, "frames": [svg, ...], "texts": [text, ...],
     "presets": [{"name": ..., "frames": [i, ...], "texts": [i, ...]}, ...]}

A preset whose run stopped early has fewer entries; its last frame and text (the
notice of why it stopped) then stand for every later step.

Each text is cowlib.view.text.render_step: its first line is the operation, then
"  | " explanation lines and "  !! " violations, then the tables. Those first lines are
what the player's live region (.cow-live, the player's description) says at each step.

Keys, when the focus is in the player (but not in its slider or selector): left and
right arrows step, Home and End jump to the first and last step, Escape pauses Play.
On a narrow screen (a container query, so a narrow notebook pane too) the outcome rows
wrap and the diagram scales to the width; the legend is HTML text and keeps its size.
"""

PLAYER_CSS = """
.cow-player{position:relative;container-type:inline-size;border:1px solid var(--cow-c-muted);
border-radius:6px;padding:10px;margin:1em 0;background:var(--cow-c-bg);color:var(--cow-c-fg);
font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}
.cow-player:focus-visible,.cow-player :focus-visible{outline:2px solid var(--cow-c-accent);
outline-offset:2px}
.cow-player .cow-title{font-weight:600;margin:0 0 6px;overflow-wrap:anywhere}
.cow-player .cow-controls{display:flex;flex-wrap:wrap;gap:6px 8px;align-items:center}
.cow-player button,.cow-player select{font:inherit;color:var(--cow-c-fg);
background:var(--cow-c-bg);border:1px solid var(--cow-c-muted);border-radius:4px;
padding:1px 9px;margin:0;cursor:pointer;max-width:100%}
.cow-player button:hover{border-color:var(--cow-c-accent)}
.cow-player button:disabled{opacity:.55;cursor:default;border-color:var(--cow-c-muted)}
.cow-player .cow-slider{flex:1 1 140px;min-width:100px;accent-color:var(--cow-c-accent)}
.cow-player .cow-pos{font-variant-numeric:tabular-nums;min-width:5em}
.cow-player label{max-width:100%}
.cow-player table.cow-outcomes{border-collapse:collapse;margin:8px 0;font-size:13px;
width:auto;border:0;display:table;background:none}
.cow-player .cow-outcomes tr{background:none}
.cow-player .cow-outcomes td,.cow-player .cow-outcomes th{padding:1px 6px;border:0;
text-align:left;vertical-align:top;background:none;font-weight:normal;color:inherit}
.cow-player .cow-outcomes tr.cow-current{outline:2px solid var(--cow-c-accent);
outline-offset:-1px}
.cow-player .cow-outcomes button{border:0;padding:0 4px;text-decoration:underline}
.cow-player .cow-outcomes .cow-name{font-family:ui-monospace,monospace;white-space:nowrap}
.cow-player .cow-bad,.cow-player .cow-bad button{color:var(--cow-c-bad);font-weight:600}
.cow-player .cow-frame{margin-top:4px}
.cow-player .cow-frame .cow-svg{display:block}
.cow-player details{margin-top:4px}
.cow-player summary{cursor:pointer;color:var(--cow-c-muted)}
.cow-player pre.cow-text{font-size:12px;line-height:1.3;max-height:28em;overflow:auto;
margin:4px 0 0;padding:6px;background:var(--cow-c-bg);color:var(--cow-c-fg);
border:1px solid var(--cow-c-muted);border-radius:4px}
.cow-player .cow-live{position:absolute;width:1px;height:1px;margin:-1px;padding:0;
overflow:hidden;clip-path:inset(50%);white-space:nowrap;border:0}
@container (max-width:560px){
.cow-player table.cow-outcomes,.cow-player .cow-outcomes tbody{display:block}
.cow-player .cow-outcomes tr{display:flex;flex-wrap:wrap;align-items:baseline;padding:2px 0}
.cow-player .cow-outcomes td,.cow-player .cow-outcomes th{display:block;min-width:0;
overflow-wrap:anywhere}
.cow-player .cow-outcomes td:last-child{flex:1 1 100%;padding-left:1.5em}}
"""

PLAYER_JS = """(function(){
var s=document.currentScript,r=s&&s.closest?s.closest('.cow-player'):null;
if(!r){var all=document.querySelectorAll('.cow-player[id="__ID__"]:not([data-ready])');
r=all[all.length-1];}
if(!r||r.getAttribute('data-ready'))return;r.setAttribute('data-ready','1');
function q(c){return r.querySelector(c)}
var d=JSON.parse(q('script.cow-data').textContent),fr=q('.cow-frame'),tx=q('.cow-text'),
lv=q('.cow-live'),sl=q('.cow-slider'),ps=q('.cow-preset'),pos=q('.cow-pos'),pl=q('.cow-play'),
pv=q('.cow-prev'),nx=q('.cow-next'),rows=r.querySelectorAll('.cow-outcomes tr[data-preset]'),
n=d.steps,step=+sl.value,p=ps.selectedIndex,timer=null,
PLAY='<span aria-hidden="true">\u25b6</span> Play',
PAUSE='<span aria-hidden="true">\u275a\u275a</span> Pause';
function at(list,i){return list[Math.min(i,list.length-1)]}
function brief(text){var lines=text.split('\\n');return [lines[0]].concat(lines.filter(
function(l){return l.slice(0,4)==='  | '||l.slice(0,5)==='  !! '})).join('\\n')}
function show(i){
step=Math.max(0,Math.min(n-1,i));var P=d.presets[p],t=d.texts[at(P.texts,step)];
fr.innerHTML=d.frames[at(P.frames,step)];fr.setAttribute('data-step',String(step));
fr.setAttribute('data-preset',P.name);tx.textContent=t;
lv.textContent='step '+step+' of '+(n-1)+', '+P.name+': '+brief(t);
sl.value=String(step);sl.setAttribute('aria-valuetext','step '+step+' of '+(n-1));
pos.textContent='step '+step+' / '+(n-1);
pv.disabled=step===0;nx.disabled=step===n-1;
for(var j=0;j<rows.length;j++)rows[j].classList.toggle('cow-current',j===p);}
function halt(){if(timer!==null){clearInterval(timer);timer=null;}pl.innerHTML=PLAY;}
function choose(j){p=j;ps.selectedIndex=j;show(step);}
pv.addEventListener('click',function(){halt();show(step-1);});
nx.addEventListener('click',function(){halt();show(step+1);});
sl.addEventListener('input',function(){halt();show(+sl.value);});
sl.addEventListener('change',function(){show(+sl.value);});
ps.addEventListener('change',function(){choose(ps.selectedIndex);});
pl.addEventListener('click',function(){
if(timer!==null){halt();return;}
show(step>=n-1?0:step+1);if(step>=n-1)return;pl.innerHTML=PAUSE;
timer=setInterval(function(){show(step+1);if(step>=n-1)halt();},d.interval);});
r.addEventListener('click',function(e){
var b=e.target.closest&&e.target.closest('button[data-preset]');if(!b||!r.contains(b))return;
halt();choose(+b.getAttribute('data-preset'));
if(b.hasAttribute('data-step'))show(+b.getAttribute('data-step'));});
var KEYS={ArrowRight:function(){return step+1},ArrowLeft:function(){return step-1},
Home:function(){return 0},End:function(){return n-1}};
r.addEventListener('keydown',function(e){
var t=e.target.tagName;if(t==='SELECT'||t==='INPUT'||e.altKey||e.ctrlKey||e.metaKey)return;
if(e.key==='Escape'&&timer!==null){halt();e.preventDefault();return;}
if(!KEYS[e.key])return;halt();show(KEYS[e.key]());e.preventDefault();});
show(step);
})();"""
