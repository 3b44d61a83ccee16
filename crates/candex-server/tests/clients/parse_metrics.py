"""Parses an OpenMetrics exposition (stdin) with the Prometheus Python client's parser
(PyPI prometheus-client, prometheus_client.openmetrics.parser) and prints what it found as JSON:
[{"name", "type", "unit", "samples": [{"name", "labels", "value"}]}]. Any parse error exits
non-zero with the parser's message, so the test fails on output Prometheus would reject.

With --rules FILE it also loads a Prometheus rules file (YAML, PyYAML) and prints
{"families": [...], "rules": [{"alert", "expr"}]}."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def families(text):
    out = []
    for family in text_string_to_metric_families(text):
        out.append(
            {
                "name": family.name,
                "type": family.type,
                "unit": family.unit,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples
                ],
            }
        )
    return out


def rules(path):
    import yaml

    with open(path, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    found = []
    for group in document["groups"]:
        assert isinstance(group["name"], str) and group["name"], group
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations", "keep_firing_for"}, rule
            found.append({"alert": rule.get("alert"), "expr": rule["expr"]})
    return found


def main():
    text = sys.stdin.read()
    parsed = families(text)
    if len(sys.argv) == 3 and sys.argv[1] == "--rules":
        print(json.dumps({"families": parsed, "rules": rules(sys.argv[2])}))
    else:
        print(json.dumps(parsed))


if __name__ == "__main__":
    main()
