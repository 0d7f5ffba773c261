#!/usr/bin/env bash
# One `certpipe run --workers 2` over a corpus in a fresh workspace, with the certpipe of CHECKOUT
# (a worktree of another commit, to compare two versions side by side with farm-bench):
#   benchmarks/run_once.sh CHECKOUT CORPUS_DIR
#   farm-bench -n 8 --vs 'bash benchmarks/run_once.sh /tmp/old CORPUS' -- bash benchmarks/run_once.sh /tmp/new CORPUS
# CORPUS_DIR: `benchmarks/corpus.py 500` makes one. The run's own seconds and CPU are appended to
# /tmp/run_once-<checkout name>.log (the workspace's set-up is timed apart there).
set -u
checkout=$(cd "$1" && pwd)
corpus=$(cd "$2" && pwd)
python=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}
ws=/tmp/run_once-ws-$(basename "$checkout")
log=/tmp/run_once-$(basename "$checkout").log
cd /tmp  # a checkout in the current folder would shadow PYTHONPATH
t0=$(date +%s.%N)
rm -rf "$ws" && mkdir -p "$ws/inbox"
printf '[intake]\naccept_unknown_audits = true\n' > "$ws/certpipe.toml"
cp -l "$corpus"/*.xlsx "$ws/inbox/" 2>/dev/null || cp "$corpus"/*.xlsx "$ws/inbox/"
t1=$(date +%s.%N)
env -u PYTHONDONTWRITEBYTECODE PYTHONPATH="$checkout" CERTPIPE_WATCH_SETTLE_SECONDS=0 "$python" -m pipeline -W "$ws" run --workers 2 >/dev/null
rc=$?
t2=$(date +%s.%N)
echo "rc=$rc setup=$(echo "$t1 - $t0" | bc) run=$(echo "$t2 - $t1" | bc)" >> "$log"
exit $rc
