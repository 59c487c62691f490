"""The player's stylesheet and script, inlined into every player (no file, no network).

The script finds its player through document.currentScript (the book runs it in
place; JupyterLab re-creates output scripts in place), or by id as a fallback, and
reads the frames from the player's <script type="application/json" class="cow-data">:

    {"steps": N, "interval": ms, "frames": [svg, ...], "texts": [text, ...],
     "presets": [{"name": ..., "frames": [i, ...], "texts": [i, ...]}, ...]}

A preset whose run stopped early has fewer entries; its last frame and text (the
notice of why it stopped) then stand for every later step.
"""

PLAYER_CSS = """
.cow-player{border:1px solid var(--cow-muted,#6b7280);border-radius:6px;padding:10px;
margin:1em 0;background:var(--cow-bg,#fff);color:var(--cow-fg,#222);
font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}
.cow-player .cow-title{font-weight:600;margin:0 0 6px}
.cow-player .cow-controls{display:flex;flex-wrap:wrap;gap:6px 8px;align-items:center}
.cow-player button,.cow-player select{font:inherit;color:var(--cow-fg,#222);
background:var(--cow-bg,#fff);border:1px solid var(--cow-muted,#6b7280);border-radius:4px;
padding:1px 9px;margin:0;cursor:pointer}
.cow-player button:hover{border-color:var(--cow-accent,#1d4ed8)}
.cow-player button:disabled{opacity:.4;cursor:default;border-color:var(--cow-muted,#6b7280)}
.cow-player .cow-slider{flex:1 1 140px;min-width:100px;accent-color:var(--cow-accent,#1d4ed8)}
.cow-player .cow-pos{font-variant-numeric:tabular-nums;min-width:5em}
.cow-player table.cow-outcomes{border-collapse:collapse;margin:8px 0;font-size:13px;
width:auto;border:0;display:table}
.cow-player .cow-outcomes td,.cow-player .cow-outcomes th{padding:1px 6px;border:0;
text-align:left;vertical-align:top;background:none;font-weight:normal}
.cow-player .cow-outcomes tr.cow-current{outline:2px solid var(--cow-accent,#1d4ed8);
outline-offset:-1px}
.cow-player .cow-outcomes button{border:0;padding:0 4px;text-decoration:underline}
.cow-player .cow-outcomes .cow-name{font-family:ui-monospace,monospace;white-space:nowrap}
.cow-player .cow-bad,.cow-player .cow-bad button{color:var(--cow-bad,#c62828);font-weight:600}
.cow-player .cow-frame{overflow-x:auto;margin-top:4px}
.cow-player .cow-frame .cow-svg{min-width:520px;display:block}
.cow-player details{margin-top:4px}
.cow-player summary{cursor:pointer;color:var(--cow-muted,#6b7280)}
.cow-player pre.cow-text{font-size:12px;line-height:1.3;max-height:28em;overflow:auto;
margin:4px 0 0;padding:6px;background:var(--cow-bg,#fff);color:var(--cow-fg,#222);
border:1px solid var(--cow-muted,#6b7280);border-radius:4px}
.cow-player .cow-legend .cow-svg{max-width:100%;height:auto}
"""

PLAYER_JS = """(function(){
var s=document.currentScript,r=s&&s.parentNode;
if(!r||!r.classList||!r.classList.contains('cow-player'))r=document.getElementById('__ID__');
if(!r||r.getAttribute('data-ready'))return;r.setAttribute('data-ready','1');
function q(c){return r.querySelector(c)}
var d=JSON.parse(q('script.cow-data').textContent),fr=q('.cow-frame'),tx=q('.cow-text'),
sl=q('.cow-slider'),ps=q('.cow-preset'),pos=q('.cow-pos'),pl=q('.cow-play'),
pv=q('.cow-prev'),nx=q('.cow-next'),rows=r.querySelectorAll('.cow-outcomes tr[data-preset]'),
n=d.steps,step=+sl.value,p=ps.selectedIndex,timer=null;
function at(list,i){return list[Math.min(i,list.length-1)]}
function show(i){
step=Math.max(0,Math.min(n-1,i));var P=d.presets[p];
fr.innerHTML=d.frames[at(P.frames,step)];fr.setAttribute('data-step',String(step));
fr.setAttribute('data-preset',P.name);tx.textContent=d.texts[at(P.texts,step)];
sl.value=String(step);pos.textContent='step '+step+' / '+(n-1);
pv.disabled=step===0;nx.disabled=step===n-1;
for(var j=0;j<rows.length;j++)rows[j].classList.toggle('cow-current',j===p);}
function halt(){if(timer!==null){clearInterval(timer);timer=null;}
pl.textContent='\\u25B6 Play';pl.setAttribute('aria-pressed','false');}
function choose(j){p=j;ps.selectedIndex=j;show(step);}
pv.addEventListener('click',function(){halt();show(step-1);});
nx.addEventListener('click',function(){halt();show(step+1);});
sl.addEventListener('input',function(){halt();show(+sl.value);});
sl.addEventListener('change',function(){show(+sl.value);});
ps.addEventListener('change',function(){choose(ps.selectedIndex);});
pl.addEventListener('click',function(){
if(timer!==null){halt();return;}
show(step>=n-1?0:step+1);if(step>=n-1)return;
pl.textContent='\\u275A\\u275A Pause';pl.setAttribute('aria-pressed','true');
timer=setInterval(function(){show(step+1);if(step>=n-1)halt();},d.interval);});
r.addEventListener('click',function(e){
var b=e.target.closest&&e.target.closest('button[data-preset]');if(!b||!r.contains(b))return;
halt();choose(+b.getAttribute('data-preset'));
if(b.hasAttribute('data-step'))show(+b.getAttribute('data-step'));});
r.addEventListener('keydown',function(e){
var t=e.target.tagName;if(t==='SELECT'||t==='INPUT')return;
if(e.key==='ArrowRight'){halt();show(step+1);e.preventDefault();}
else if(e.key==='ArrowLeft'){halt();show(step-1);e.preventDefault();}});
show(step);
})();"""
