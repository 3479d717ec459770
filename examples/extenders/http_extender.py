#!/usr/bin/env python3
"""A kube-scheduler HTTP extender for kubesim (Python standard library only).

Policy:
  filter      rejects nodes labelled kubesim.dev/avoid=true (FailedNodes);
  prioritize  prefers nodes running the fewest pods: among the candidates the
              emptiest node scores 10, the fullest 0, linear in between
              (integer arithmetic, so the result is deterministic);
  bind        accepts every binding (kubesim then binds the pod itself).

It speaks the standard extender protocol (k8s.io/kube-scheduler/extender/v1):
POST <urlPrefix>/filter, /prioritize and /bind with ExtenderArgs /
ExtenderBindingArgs, replying ExtenderFilterResult / HostPriorityList /
ExtenderBindingResult. The pod count comes from the non-API "kubesim" field
kubesim adds to each node object ({"pods": N, "requested": {...}}); against a
real cluster that field is absent and every node counts as empty. With
nodeCacheCapable the extender only receives node names, so nothing is
filtered and every node scores 10.

Run it:

    python3 examples/extenders/http_extender.py 8888          # port, default 8888
    python3 examples/extenders/http_extender.py 8888 --verbose # log each call to stderr

and point kubesim at it from the scenario's KubeSchedulerConfiguration:

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    extenders:
    - urlPrefix: http://127.0.0.1:8888/scheduler   # any path prefix works
      filterVerb: filter
      prioritizeVerb: prioritize
      bindVerb: bind        # optional: omit to let kubesim bind
      weight: 1
      httpTimeout: 5s

The server listens on 127.0.0.1 only and runs until interrupted.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AVOID_LABEL = "kubesim.dev/avoid"
MAX_PRIORITY = 10  # extenderv1.MaxExtenderPriority

VERBOSE = False


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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: kubesim reuses the connection

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        verb = self.path.rstrip("/").rsplit("/", 1)[-1]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        handler = HANDLERS.get(verb)
        if handler is None:
            self.reply(404, {"Error": "unknown verb %r" % verb})
            return
        try:
            args = json.loads(raw)
        except ValueError as e:
            self.reply(400, {"Error": "bad JSON: %s" % e})
            return
        result = handler(args)
        if VERBOSE:
            print("%s -> %s" % (verb, json.dumps(result)), file=sys.stderr)
        self.reply(200, result)

    def log_message(self, fmt, *args):
        if VERBOSE:
            super().log_message(fmt, *args)


def main(argv):
    global VERBOSE
    VERBOSE = "--verbose" in argv
    rest = [a for a in argv if a != "--verbose"]
    port = int(rest[0]) if rest else 8888
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if VERBOSE:
        print("http_extender: listening on 127.0.0.1:%d" % server.server_address[1], file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
