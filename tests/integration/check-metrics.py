#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-metrics.py PROM OPENMETRICS CONTAINER GETCONTAINER: the two outputs of `cgdelegatectl
# metrics` (default, --openmetrics) parsed back by prometheus_client's own parsers (the text
# format the node exporter's textfile collector reads, and strict OpenMetrics 1.0), and the
# container's samples checked against GETCONTAINER (busctl's output of GetContainer, taken
# right after): requests, refusals by reason, groups, connections; its histogram whole
# (cumulative buckets, +Inf equal to the count, at least one request, no more than requests).
# Exits non-zero, saying what is wrong, on the first failure.
import re
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_prom

prom_file, om_file, name, getcontainer = sys.argv[1:5]
# busctl prints a{sv} as: a{sv} N "Key" t 12 "Key2" s "text" ...
given = {k: int(v) for k, v in re.findall(r'"([A-Za-z.0-9]+)" [ut] (\d+)', getcontainer)}


def fail(msg):
    print(msg)
    sys.exit(1)


def families(text, parser):
    try:
        return {f.name: f for f in parser(text)}
    except Exception as e:  # the parsers raise ValueError and friends
        fail("%s refused the output: %s" % (parser.__module__, e))


prom = families(open(prom_file).read(), parse_prom)
om = families(open(om_file).read(), parse_om)
want = {"cgdelegate_daemon_requests": "counter", "cgdelegate_daemon_refusals": "counter",
        "cgdelegate_daemon_containers": "gauge", "cgdelegate_requests": "counter",
        "cgdelegate_refusals": "counter", "cgdelegate_request_duration_seconds": "histogram",
        "cgdelegate_groups": "gauge", "cgdelegate_connections": "gauge"}
for fams, what in ((prom, "Prometheus text"), (om, "OpenMetrics")):
    for fam, typ in want.items():
        if fam not in fams or fams[fam].type != typ:
            fail("%s: no %s family %s (have %s)" % (what, typ, fam, sorted(fams)))


def samples(fam, suffix=""):
    return [s for s in om[fam].samples if s.labels.get("container") == name and s.name == fam + suffix]


def one(fam, suffix=""):
    s = samples(fam, suffix)
    if len(s) != 1:
        fail("%s%s{container=%s}: %d samples" % (fam, suffix, name, len(s)))
    return s[0].value


checks = [("cgdelegate_requests", "_total", "Requests"), ("cgdelegate_groups", "", "Groups"),
          ("cgdelegate_connections", "", "Connections")]
for fam, suffix, key in checks:
    if one(fam, suffix) != given[key]:
        fail("%s%s is %s, GetContainer says %s=%d" % (fam, suffix, one(fam, suffix), key, given[key]))
by_reason = {s.labels["reason"]: s.value for s in samples("cgdelegate_refusals", "_total")}
for reason, value in by_reason.items():
    if value != given.get("Refused." + reason):
        fail("refusals{reason=%s} is %s, GetContainer says %s" % (reason, value, given.get("Refused." + reason)))
if sum(by_reason.values()) != given["Refusals"] or given["Refusals"] == 0:
    fail("refusals by reason sum to %s, GetContainer says Refusals=%d (the test made some)"
         % (sum(by_reason.values()), given["Refusals"]))
buckets = sorted(((float(s.labels["le"]), s.value) for s in samples("cgdelegate_request_duration_seconds", "_bucket")))
counts = [v for _, v in buckets]
count = one("cgdelegate_request_duration_seconds", "_count")
if counts != sorted(counts) or buckets[-1][0] != float("inf") or counts[-1] != count:
    fail("the histogram is not whole: %s, count %s" % (buckets, count))
if not 1 <= count <= given["Requests"]:
    fail("%s requests in the histogram, %d in all" % (count, given["Requests"]))
print("ok: %d families, %s requests of %s, %d buckets, refusals %s" % (len(om), count, name, len(buckets), by_reason))
