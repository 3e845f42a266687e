/// The console's only assets, served by the daemon itself. The layout wraps rather than scrolls
/// sideways: wide tables scroll inside their own box, so a 375 px phone sees the whole page.
enum ConsoleAssets {
    static let css = """
    *{box-sizing:border-box}
    body{margin:0;font-family:"Noto Sans","DejaVu Sans",system-ui,sans-serif;color:#1d2330;background:#f6f7f9;line-height:1.45}
    header{background:#0b4f6c;color:#fff;padding:.5rem 1rem}
    header nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
    header a,header span{color:#fff}
    main{padding:1rem;max-width:72rem;margin:0 auto}
    h1{font-size:1.4rem;margin:.2rem 0 1rem}
    h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
    p,td,th,li,dd,dt{overflow-wrap:anywhere}
    .scroll{overflow-x:auto;max-width:100%}
    table{border-collapse:collapse;width:100%;background:#fff}
    th,td{border-bottom:1px solid #dde1e7;padding:.35rem .5rem;text-align:left;vertical-align:top}
    th{background:#eef1f5;font-weight:600}
    td.n{text-align:right;font-variant-numeric:tabular-nums}
    .sev{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:.85rem;white-space:nowrap}
    .sev-critical{background:#8b0000;color:#fff}.sev-error{background:#c0392b;color:#fff}
    .sev-warning{background:#f0b429;color:#1d2330}.sev-notice{background:#cfe3f5}.sev-info{background:#e4e7eb}
    .cards{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:1rem}
    .card{background:#fff;border:1px solid #dde1e7;border-radius:.4rem;padding:.5rem .8rem;min-width:8rem}
    .card b{display:block;font-size:1.4rem}
    .muted{color:#5b6472}.error{color:#a61b1b;font-weight:600}
    svg.chart{width:100%;max-width:40rem;height:auto;background:#fff;border:1px solid #dde1e7;display:block;margin:.5rem 0}
    svg.spark{width:7.5rem;height:1.9rem}
    svg .grid{stroke:#e3e6ea;stroke-width:1}svg .tick,svg .label{font-size:12px;fill:#5b6472}
    svg .series{fill:none;stroke:#0b4f6c;stroke-width:2}svg .point{fill:#0b4f6c}
    svg .interval{stroke:#0b4f6c;stroke-width:6;stroke-opacity:.3}
    svg .threshold{stroke:#a61b1b;stroke-dasharray:6 4;stroke-width:1.5}
    svg .milestone{stroke:#a0a7b1;stroke-dasharray:3 3}svg .target{fill:#a61b1b}
    svg .projection{stroke:#0b4f6c;stroke-dasharray:6 4;stroke-width:2}svg .projected{fill:#fff;stroke:#0b4f6c;stroke-width:2}
    dl{display:grid;grid-template-columns:minmax(6rem,max-content) 1fr;gap:.2rem .8rem;background:#fff;padding:.5rem;margin:0}
    dt{font-weight:600}
    form.inline{display:inline}form.login label{display:block;margin:.5rem 0}
    input,button{font:inherit;max-width:100%}
    """

    static let icon = """
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b4f6c"/><path d="M3 11l3-4 3 3 4-6" stroke="#fff" stroke-width="2" fill="none"/></svg>
    """
}
