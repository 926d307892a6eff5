#!/usr/bin/env bash
# Writes the fuzzers' seed inputs into OUT/<target>/ (default build-fuzz/seeds): small valid
# files of every layout, and binary ones (a checkpoint, an embedding snapshot, a trained graph,
# a prepared file) made by reclab-cli from tiny generated data, so none is committed and none
# comes from a licensed dataset. Used by tests/fuzz/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-build-fuzz/seeds}
CLI=${RECLAB_BUILD_DIR:-build}/app/reclab-cli
mkdir -p "$OUT"/{fuzz_graph,fuzz_delimited,fuzz_formats,fuzz_prepared,fuzz_params,fuzz_checkpoint,fuzz_manifest}
cp resources/graphs/*.json "$OUT/fuzz_graph/"
# fuzz_delimited: two mode bytes (separator/header, flags), then the file.
printf '\x00\x00user,item,rating,timestamp\n1,10,4,1600000000\n2,11,3.5,1600000001\n' > "$OUT/fuzz_delimited/csv"
printf '\x02\x11196\t242\t3\t881250949\n186\t302\t3\t891717742\n' > "$OUT/fuzz_delimited/tab"
printf '\x03\x02A1::B7::5::1\nA2::B7::4::2\n"A3"::B8::1::3' > "$OUT/fuzz_delimited/colons"
printf '\x01\x09userId;movieId;rating;time\n1;2;4;2015-03-01 12:00:00\n1;3;2;2015-03-02\n' > "$OUT/fuzz_delimited/semicolon"
# fuzz_formats: a layout byte, then the layout's files cut at "\n#--\n".
printf '\x00196\t242\t3\t881250949\n186\t242\t4\t891717742\n#--\n242|Kolya (1996)|24-Jan-1997||http://x|0|1\n#--\n196|49|M|writer|55105\n186|39|F|executive|00000\n#--\nunknown|0\nComedy|1\n#--\n196\t242\t3\t881250949\n#--\n186\t242\t4\t891717742\n' > "$OUT/fuzz_formats/ml100k"
printf '\x011::1193::5::978300760\n2::1193::4::978300761\n#--\n1193::One Flew (1975)::Drama\n#--\n1::F::1::10::48067\n2::M::56::16::70072\n' > "$OUT/fuzz_formats/ml1m"
printf '\x021::122::5::838985046\n1::185::4.5::838983525\n#--\n122::Boomerang (1992)::Comedy|Romance\n#--\n15::185::computers::1138537770\n' > "$OUT/fuzz_formats/ml10m"
printf '\x03userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,3.5,964982704\n#--\nmovieId,title,genres\n1,"Toy Story, The (1995)",Adventure|Animation\n#--\nuserId,movieId,tag,timestamp\n2,1,"pixar, fun",1445714994\n' > "$OUT/fuzz_formats/mlcsv"
printf '\x04user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t4\t1\n3\t2\t5\t2\n#--\nitem_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n2\tSome Title\t1995\tDrama Comedy\n#--\nuser_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n1\t24\tM\twriter\t1\n' > "$OUT/fuzz_formats/recbole"
printf '\x05{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1}\n{"reviewerID": "A2", "asin": "B1", "overall": 3, "unixReviewTime": 2}\n#--\n{"asin": "B1", "title": "A Book", "categories": [["Books", "Fiction"]]}\n{'"'"'asin'"'"': '"'"'B2'"'"', '"'"'title'"'"': '"'"'Old'"'"'}\n' > "$OUT/fuzz_formats/amazon"
printf '\x06A2CX7LUOHB2NDG,0321732944,5.0,1341100800\nA2NWSAGRHCP8N5,0439886341,1.0,1367193600\n' > "$OUT/fuzz_formats/amazoncsv"
# fuzz_params: a run's params as RecLab stores them.
echo '{"model":"neumf","epochs":20,"batch_size":256,"learning_rate":0.001,"l2":0.001,"optimizer":"adam","seed":42,"negatives":4,"factors":8,"mlp_layers":[64,32,16,8],"pretrain":true,"protocol":"loo","validation_metric":"ndcg","patience":3,"duplicates":"latest"}' > "$OUT/fuzz_params/neumf.json"
echo '{"model":"din","activation":"prelu","history_length":20,"positive_rating":4,"attention_layers":[80,40],"test_fraction":0.2}' > "$OUT/fuzz_params/din.json"
python3 - "$OUT/fuzz_params/graph.json" resources/graphs/neumf.json <<'PY'
import json, sys
graph = json.load(open(sys.argv[2]))
json.dump({"model": "graph", "graph": graph, "epochs": 2}, open(sys.argv[1], "w"))
PY
# fuzz_manifest: a kind byte (0 manifest, 1 checksum file, 2 zip), then the bytes.
printf '\x00{"name":"ml-100k","url":"file:///x.zip","md5":"0e33842e24a9c977be4e0107933c0723","sha256":"ab","archive_bytes":4924029,"extracted_bytes":16000000,"files":["u.data","u.item"],"downloaded":"2026-01-01T00:00:00Z"}' > "$OUT/fuzz_manifest/manifest"
printf '\x01MD5 (ml-latest-small.zip) = 0e33842e24a9c977be4e0107933c0723\n' > "$OUT/fuzz_manifest/md5"
python3 - "$OUT/fuzz_manifest/zip" <<'PY'
import io, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("ml-x/u.data", "1\t2\t3\t4\n")
    z.writestr("ml-x/README", "readme")
open(sys.argv[1], "wb").write(b"\x02" + buf.getvalue())
PY
# Binary seeds from a real run on tiny data (6 users, 7 items: the checkpoint fuzzer's GMF).
if [ -x "$CLI" ]; then
  tmp=$(mktemp -d)
  python3 - "$tmp/tiny.csv" <<'PY'
import sys
rows = [(u, i, 1 + (u * i) % 5, 1000 + u * 10 + i) for u in range(1, 7) for i in range(1, 8) if (u + i) % 3]
open(sys.argv[1], "w").write("".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows))
PY
  "$CLI" train --data "$tmp/tiny.csv" --model gmf --factors 4 --epochs 1 --protocol full --db "$tmp/r.db" > /dev/null
  run="$tmp/r.db.artifacts/run-1"
  { printf '\x00'; cat "$run/last.pt"; } > "$OUT/fuzz_checkpoint/checkpoint"
  { printf '\x01'; cat "$run/embeddings/index.json"; printf '\n#--\n'; cat "$run/embeddings/epoch-0001.pt"; } > "$OUT/fuzz_checkpoint/snapshot"
  { printf '\x02'; cat "$run/graph.json"; printf '\n#--\n'; cat "$run/weights.pt"; } > "$OUT/fuzz_checkpoint/graph"
  "$CLI" data prepare "$tmp/tiny.csv" --split ratio:8,1,1 --negatives 2 --out "$OUT/fuzz_prepared/tiny.rlprep" > /dev/null
  "$CLI" data prepare sample --split loo --out "$OUT/fuzz_prepared/sample.rlprep" > /dev/null
  rm -rf "$tmp"
else
  echo "make_seeds: $CLI not built; no binary seeds" >&2
fi
