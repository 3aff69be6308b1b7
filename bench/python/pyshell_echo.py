"""The python-shell peer: JSON lines in on stdin, the same JSON line out on stdout (python-shell's `mode: 'json'`)."""
import json
import sys


def main():
    out = sys.stdout
    for line in sys.stdin:
        msg = json.loads(line)
        out.write(json.dumps({"id": msg["id"], "value": msg["value"]}) + "\n")
        out.flush()


main()
