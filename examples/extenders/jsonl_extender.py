#!/usr/bin/env python3
"""A kubesim JSON-lines scheduler extender (Python standard library only).

Same policy as http_extender.py:
  filter      rejects nodes labelled kubesim.dev/avoid=true (FailedNodes);
  prioritize  prefers nodes running the fewest pods: among the candidates the
              emptiest node scores 10, the fullest 0, linear in between;
  bind        accepts every binding (kubesim then binds the pod itself).

Protocol (kubesim's own): kubesim starts this program once and writes one
request per line on its stdin,

    {"verb": "filter"|"prioritize"|"bind", "args": <ExtenderArgs or ExtenderBindingArgs>}

with the same JSON as the HTTP extender protocol; the program writes exactly
one reply per line on stdout (ExtenderFilterResult, HostPriorityList or
ExtenderBindingResult) and flushes. Anything else on stdout breaks the
protocol, so logs go to stderr, which kubesim passes through. The program
exits when stdin closes. Pod counts come from the "kubesim" field of each
node object ({"pods": N, "requested": {...}}).

Use it from the scenario's KubeSchedulerConfiguration with `command` (a
kubesim extension) instead of `urlPrefix`; the verbs enable the calls:

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    extenders:
    - command: [python3, examples/extenders/jsonl_extender.py]
      filterVerb: filter
      prioritizeVerb: prioritize
      bindVerb: bind        # optional: omit to let kubesim bind
      weight: 1
      httpTimeout: 5s       # per-call timeout; the process is killed on expiry

Try it by hand:

    echo '{"verb":"bind","args":{"PodName":"p","Node":"n"}}' | python3 examples/extenders/jsonl_extender.py
"""

import json
import sys

AVOID_LABEL = "kubesim.dev/avoid"
MAX_PRIORITY = 10  # extenderv1.MaxExtenderPriority


def node_name(node):
    return (node.get("metadata") or {}).get("name", "")


def filter_nodes(args):
    """ExtenderArgs -> ExtenderFilterResult."""
    failed = {}
    nodes = (args.get("Nodes") or {}).get("items")
    if nodes is not None:
        keep = []
        for node in nodes:
            labels = (node.get("metadata") or {}).get("labels") or {}
            if labels.get(AVOID_LABEL) == "true":
                failed[node_name(node)] = "node is labelled %s=true" % AVOID_LABEL
            else:
                keep.append(node)
        return {"Nodes": {"items": keep}, "FailedNodes": failed, "Error": ""}
    # nodeCacheCapable: only names, no labels to look at.
    return {"NodeNames": list(args.get("NodeNames") or []), "FailedNodes": failed, "Error": ""}


def prioritize_nodes(args):
    """ExtenderArgs -> HostPriorityList: fewest pods scores highest."""
    nodes = (args.get("Nodes") or {}).get("items")
    if nodes is None:
        return [{"Host": n, "Score": MAX_PRIORITY} for n in args.get("NodeNames") or []]
    counts = [(node_name(n), int((n.get("kubesim") or {}).get("pods", 0))) for n in nodes]
    if not counts:
        return []
    lo = min(c for _, c in counts)
    hi = max(c for _, c in counts)
    out = []
    for name, c in counts:
        score = MAX_PRIORITY if hi == lo else MAX_PRIORITY * (hi - c) // (hi - lo)
        out.append({"Host": name, "Score": score})
    return out


def bind_pod(args):
    """ExtenderBindingArgs -> ExtenderBindingResult."""
    return {"Error": ""}


HANDLERS = {"filter": filter_nodes, "prioritize": prioritize_nodes, "bind": bind_pod}


def handle(line):
    try:
        req = json.loads(line)
    except ValueError as e:
        return {"Error": "bad JSON: %s" % e}
    verb = req.get("verb")
    handler = HANDLERS.get(verb)
    if handler is None:
        return {"Error": "unknown verb %r" % (verb,)}
    return handler(req.get("args") or {})


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        sys.stdout.write(json.dumps(handle(line)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
