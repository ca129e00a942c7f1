/** The gallery's one stylesheet (served at /gallery.css; a string so the Workers build carries it). */
export const GALLERY_CSS = `
:root{color-scheme:dark;--bg:#111418;--card:#1b2027;--line:#2c333d;--text:#e6e9ee;--muted:#98a2b3;--accent:#f59e0b}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,sans-serif}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;padding:.75rem 1.5rem;border-bottom:1px solid var(--line)}
header .brand{font-weight:700;color:var(--text);font-size:1.1rem}
header form{flex:1;display:flex;gap:.5rem;min-width:16rem}
input,select,button{font:inherit;color:var(--text);background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.35rem .6rem}
input[type=search]{flex:1}
main{padding:1rem 1.5rem;max-width:72rem;margin:auto}
nav.filters{display:flex;gap:.4rem;flex-wrap:wrap;margin:.5rem 0 1rem}
nav.filters a{padding:.2rem .7rem;border:1px solid var(--line);border-radius:999px;color:var(--muted)}
nav.filters a[aria-current=true]{color:var(--bg);background:var(--accent);border-color:var(--accent)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:1rem;list-style:none;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
.card a.cover{display:block;background:#000;aspect-ratio:1}
img.clip{display:block;width:100%;height:auto;aspect-ratio:1;image-rendering:pixelated}
.card .body{padding:.6rem .75rem}
.card h2{font-size:1rem;margin:0}
.muted,.card .meta{color:var(--muted);font-size:.85rem}
.tag{display:inline-block;margin:.15rem .25rem 0 0;padding:0 .45rem;border-radius:4px;background:#262d37;color:var(--muted);font-size:.8rem}
.pager{display:flex;justify-content:space-between;margin:1.5rem 0}
.side{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
figure{margin:0}.side img.clip{max-width:256px}figcaption{color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line)}
code,pre{font:13px/1.45 ui-monospace,monospace}pre{background:#0b0d10;border:1px solid var(--line);border-radius:8px;padding:.75rem;overflow:auto}
.readme{border-top:1px solid var(--line);margin-top:1.5rem;overflow-wrap:anywhere}
.scroll-x,.readme table{display:block;max-width:100%;overflow-x:auto}.readme img{max-width:100%}
.sample .score{color:var(--text)}#transfer b{color:var(--accent)}
#try{border:1px solid var(--line);border-radius:10px;padding:0 1rem 1rem;margin:1.5rem 0}
.try-grid{display:grid;gap:.6rem}.try-grid label{display:grid;gap:.2rem;color:var(--muted);font-size:.9rem}
#try-suggestions .tag{cursor:pointer;border:0}#try-prompt[aria-invalid=true]{border-color:#f87171}#try[data-state=error] #try-status{color:#fca5a5}#try-clip{max-width:256px;margin-top:.75rem}progress{vertical-align:middle;width:10rem}
.empty{color:var(--muted);padding:3rem 0;text-align:center}
@media (max-width:30rem){header,main{padding-left:.75rem;padding-right:.75rem}header form{min-width:0;flex-basis:100%}}
`;
