"""Parse 1,000 TICKscripts of 50 lines each and print the time taken (target: under a second).

Run: python benchmarks/tickscript_parse.py [--scripts N] [--repeat R]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from mockserver.tickscript import parse

# A realistic 50-line script (comments, vars, chains, properties, lambdas, strings, durations).
TEMPLATE = """\
// Alert on high CPU usage per host {i}
dbrp "telegraf"."autogen"

// Which measurement to watch
var measurement = 'cpu'
var period = 10s
var every = 5s
var warn = 80.0
var crit = 95.0
var hosts = ['host-a', 'host-b', *]

var data = stream
    |from()
        .measurement(measurement)
        .groupBy('host', 'cpu')
        .where(lambda: "cpu" == 'cpu-total' AND "host" =~ /^web-\\d+$/)
    |window()
        .period(period)
        .every(every)
        .align()
    |mean('usage_idle')
        .as('idle')

// Derive usage from idle time
data
    |eval(lambda: 100.0 - "idle", lambda: "idle" * 2)
        .as('used', 'double')
        .keep('used', 'idle')
    |alert()
        .id('{{{{ index .Tags "host" }}}}/cpu_used')
        .message('{{{{ .ID }}}} is {{{{ .Level }}}} value: {{{{ index .Fields "used" }}}}')
        .warn(lambda: "used" > warn)
        .crit(lambda: "used" > crit OR ("used" > 90 AND "idle" < 5.5))
        .stateChangesOnly(5m)
        .slack()
        .channel('#alerts')
        .log('/var/log/kapacitor/cpu_alerts.log')

data
    |influxDBOut()
        .database('derived')
        .retentionPolicy('autogen')
        .measurement('cpu_used')
        .tag('source', 'kapacitor')
        .precision('s')

// Expose the latest values over HTTP
data
    |httpOut('cpu_{i}')
        .quiet()
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scripts", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    scripts = [TEMPLATE.format(i=i) for i in range(args.scripts)]
    lines = TEMPLATE.count("\n")
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        for s in scripts:
            parse(s)
        best = min(best, time.perf_counter() - start)
    print(f"parsed {args.scripts} scripts of {lines} lines in {best:.3f} s (best of {args.repeat})")


if __name__ == "__main__":
    main()
