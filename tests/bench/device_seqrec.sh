#!/usr/bin/env bash
# On a GPU machine: builds core + CLI against the CUDA LibTorch of the Python there
# (device_build.sh), trains every sequence template for two epochs on the GPU, then GRU4Rec and
# SASRec at their defaults beside the plain PyTorch reference on the same GPU
# (seqrec_ref_device.py running ../shared/peers/seqrec_ref.py --epochs 150 --batch 128), seed by
# seed. Logs go to $OUT/logs.tar (smoke/, ours/<model>-<seed>.jsonl, ref/<model>-<seed>.jsonl,
# re-packed after every run so a stopped call keeps what finished); read them with
# seqrec_accuracy.py --ours-logs DIR/ours --ref-logs DIR/ref.
# $1: the header-only/SQLite prefix as for device_build.sh; $2: ml-100k; $3: seqrec_ref.py;
# $4: seeds (default 1,2,3).
set -uo pipefail
cd "$(dirname "$0")/../.."
DEPS=$1 DATA=$2 REF=$3 SEEDS=${4:-1,2,3}
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
for m in caser narm seq2seq cnn_lstm; do
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
    timeout 150 python3 tests/bench/seqrec_ref_device.py --device cuda "$REF" --model "$m" --data "$DATA" --epochs 150 \
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
