"""Summarise soak rows (JSON lines from soak.mjs / soak.py / soak.c) into
bench/results/soak.json: growth of RSS after warm-up, flagged above 5%. Exit 1 if any path
is flagged.

    python3 bench/soak/report.py ROWS.jsonl OUT.json PROFILE [NOTE]
"""

import json
import os
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
flagged = []
for r in rows:
    r["growth_after_warmup_pct"] = round((r["rss_end_kib"] - r["rss_warm_kib"]) * 100 / r["rss_warm_kib"], 2)
    r["flag"] = r["growth_after_warmup_pct"] > 5
    if r["flag"]:
        flagged.append(f'{r["lang"]} {r["path"]}' + (f' ({r["build"]})' if "build" in r else ""))
out = {
    "description": "Memory soak: RSS (KiB) after warm-up (first 10% of the calls and at least 10 s), at the midpoint and at "
    "the end of N calls per hot path, each checkpoint the median of three neighbouring readings of the 11 in "
    "rss_trace_kib (one after warm-up, then one per tenth of the measured calls); flag = growth after warm-up above 5%.",
    "profile": sys.argv[3],
    "machine": f"{os.cpu_count()} CPU(s), {platform.machine()}",
    "note": sys.argv[4] if len(sys.argv) > 4 else "",
    "rows": rows,
    "flagged": flagged,
}
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f'{"lang":7} {"path":48} {"calls":>8} {"s":>7} {"warm":>8} {"mid":>8} {"end":>8} {"growth":>7}')
for r in rows:
    label = r["path"] + (f' [{r["build"]}]' if "build" in r else "")
    print(
        f'{r["lang"]:7} {label[:48]:48} {r["calls"]:>8} {r["seconds"]:>7} {r["rss_warm_kib"]:>8} '
        f'{r["rss_mid_kib"]:>8} {r["rss_end_kib"]:>8} {r["growth_after_warmup_pct"]:>6}%{" FLAG" if r["flag"] else ""}'
    )
print("written:", sys.argv[2])
sys.exit(1 if flagged else 0)
