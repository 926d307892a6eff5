#!/usr/bin/env bash
# On a GPU machine: builds core + CLI against the CUDA LibTorch of the Python there
# (device_build.sh), trains every sequence template for two epochs on the GPU, then GRU4Rec and
# SASRec at their defaults (and again validated on the full ranking, for the time to the
# reference's best validation NDCG@10) beside the plain PyTorch reference on the same GPU
# (seqrec_ref_run.py running ../shared/peers/seqrec_ref.py --epochs 150 --batch 128), seed by
# seed. Logs go to $OUT/logs.tar (smoke/, ours/<model>-<seed>[-val].jsonl, ref/<model>-<seed>.jsonl,
# re-packed after every run so a stopped call keeps what finished, each call its own); read them with
# seqrec_accuracy.py --ours-logs DIR/ours --ref-logs DIR/ref.
# $1: seeds (default 1,2,3); $2: the prefix device_deps.sh filled (default .devdeps: headers,
# SQLite, ml-100k/, peers/seqrec_ref.py). RECLAB_SMOKE=0 skips the two-epoch runs (a second call on
# the same warm machine, whose build-cuda is kept, for the remaining seeds).
# Here: tests/bench/device_deps.sh, then on the machine (carry .devdeps):
#   tests/bench/device_seqrec.sh 1        and at once after it        RECLAB_SMOKE=0 tests/bench/device_seqrec.sh 2,3
set -uo pipefail
cd "$(dirname "$0")/../.."
SEEDS=${1:-1,2,3}
DEPS=$(realpath "${2:-.devdeps}")
DATA=$DEPS/ml-100k REF=$DEPS/peers/seqrec_ref.py
OUT=${OUT:-$(mktemp -d)}
if ! RECLAB_DEVICE_CHECKS=0 tests/bench/device_build.sh "$DEPS" >"$OUT/build.log" 2>&1; then
  grep -E "error|Error" "$OUT/build.log" | head -60
  tail -c 3000 "$OUT/build.log"
  exit 1
fi
export LD_LIBRARY_PATH="$DEPS/lib:${LD_LIBRARY_PATH:-}"
CLI=build-cuda/app/reclab-cli
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
LOGS=$(mktemp -d)/logs
mkdir -p "$LOGS/smoke" "$LOGS/ours" "$LOGS/ref"
pack() { tar -C "$(dirname "$LOGS")" -cf "$OUT/logs.tar" logs; }
last() { grep '"epoch"' "$1" | tail -n 1 | cut -c1-400; }
for m in $([ "${RECLAB_SMOKE:-1}" = 0 ] || echo caser narm seq2seq cnn_lstm); do
  timeout 45 $CLI train --data "$DATA" --model "$m" --protocol common --epochs 2 --device cuda --json \
    --db "$LOGS/smoke.db" >"$LOGS/smoke/$m.jsonl" 2>&1
  echo "$m on cuda: exit $?"; last "$LOGS/smoke/$m.jsonl"; tail -n 2 "$LOGS/smoke/$m.jsonl" | grep -v '^{'
done
pack
for s in ${SEEDS//,/ }; do
  for m in gru4rec sasrec; do
    timeout 150 $CLI train --data "$DATA" --model "$m" --protocol common --seed "$s" --device cuda --json \
      --db "$LOGS/ours.db" >"$LOGS/ours/$m-$s.jsonl" 2>"$LOGS/ours/$m-$s.err"
    echo "reclab $m seed $s: exit $?"; last "$LOGS/ours/$m-$s.jsonl"; tail -n 3 "$LOGS/ours/$m-$s.err"
    timeout 150 $CLI train --data "$DATA" --model "$m" --protocol common --seed "$s" --device cuda --json \
      --validation-metric full_ndcg@10 --patience 0 --db "$LOGS/val.db" >"$LOGS/ours/$m-$s-val.jsonl" 2>&1
    echo "reclab $m seed $s validated: exit $?"; last "$LOGS/ours/$m-$s-val.jsonl"
    timeout 150 python3 tests/bench/seqrec_ref_run.py --device cuda --validation "$REF" --model "$m" --data "$DATA" --epochs 150 \
      --batch 128 --seed "$s" >"$LOGS/ref/$m-$s.jsonl" 2>"$LOGS/ref/$m-$s.err"
    echo "reference $m seed $s: exit $?"; tail -n 1 "$LOGS/ref/$m-$s.jsonl" | cut -c1-400; tail -n 3 "$LOGS/ref/$m-$s.err"
    pack
  done
  if [ "$s" = "${SEEDS%%,*}" ]; then   # the first seed's SASRec run (id 2): its top 10 and attention
    $CLI recommend --run 2 --user 196 --db "$LOGS/ours.db" --data "$DATA" 2>&1 | head -n 14
    $CLI attention --run 2 --user 196 --db "$LOGS/ours.db" --data "$DATA" 2>&1 | head -n 8
  fi
done
pack
