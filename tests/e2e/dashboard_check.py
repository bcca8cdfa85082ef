#!/usr/bin/env python3
"""dashboard_check.py DASHBOARD.json SCRAPE.txt [RULES.yml]: sanity of the
Grafana dashboard in packaging/monitoring/: the JSON has what Grafana needs
of each panel (unique id, a grid position inside the 24 columns, a
Prometheus data source, targets with an expr and a unique refId), and every
metric name its exprs and template queries use is one the coordinator
exports, as a real scrape of /metrics shows (its # TYPE lines). With RULES,
the alert rules' exprs are checked against the same names. Exit 1 with the
reasons, else 0."""
import json, re, sys

PROMQL_WORDS = {"sum", "by", "without", "rate", "increase", "max", "min", "avg", "count",
                "histogram_quantile", "on", "ignoring", "group_left", "group_right", "and",
                "or", "unless", "label_values", "bool", "offset", "topk", "bottomk"}
ALWAYS = {"up"}  # Prometheus's own series for each target


def exported(scrape):
    names = set()
    for line in open(scrape):
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            name, kind = m.groups()
            names.add(name)
            if kind == "histogram":
                names.update({name + "_bucket", name + "_sum", name + "_count"})
    return names


def metric_names(expr):
    # drop label matchers, strings, durations, $variables and numbers
    expr = re.sub(r'"[^"]*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\$\w+", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    out = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        word = m.group(0)
        rest = expr[m.end():].lstrip()
        if word in PROMQL_WORDS or rest.startswith("("):
            continue
        out.add(word)
    return out


def main():
    dash = json.load(open(sys.argv[1]))
    names = exported(sys.argv[2]) | ALWAYS
    errors = []
    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in dash:
            errors.append("dashboard has no %s" % key)
    ids = set()
    used = set()
    for p in dash.get("panels", []):
        title = p.get("title", "?")
        if not p.get("title"):
            errors.append("a panel without a title")
        if p.get("id") in ids:
            errors.append("panel %r: id %s used twice" % (title, p.get("id")))
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24:
            errors.append("panel %r: bad gridPos %s" % (title, g))
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("type") != "prometheus":
            errors.append("panel %r: no prometheus data source" % title)
        targets = p.get("targets") or []
        if not targets:
            errors.append("panel %r: no targets" % title)
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or None in refs:
            errors.append("panel %r: refIds %s" % (title, refs))
        for t in targets:
            if not t.get("expr"):
                errors.append("panel %r: a target without expr" % title)
            for n in metric_names(t.get("expr", "")):
                used.add(n)
                if n not in names:
                    errors.append("panel %r: %s is not exported" % (title, n))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            for n in metric_names(v.get("query", "")) - {"job", "app", "host"}:
                if n not in names:
                    errors.append("variable %s: %s is not exported" % (v.get("name"), n))
    if len(sys.argv) > 3:
        for m in re.finditer(r"expr: (\|\n(?:          .*\n)+|.*)", open(sys.argv[3]).read()):
            for n in metric_names(m.group(1).lstrip("|")):
                if n not in names:
                    errors.append("alert rule: %s is not exported" % n)
    for e in errors:
        print("dashboard_check:", e)
    if not errors:
        print("dashboard_check: %d panels, %d metric names, all exported" % (len(dash["panels"]), len(used)))
    return 1 if errors else 0


sys.exit(main())
