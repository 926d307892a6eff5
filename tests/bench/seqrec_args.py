"""Options shared by the sequence-model benchmarks (seqrec_speed.py, seqrec_accuracy.py): where
RecLab's CLI, the Python with python3-torch, ml-100k and the plain PyTorch reference are."""
import argparse, os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))


def parser():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", default=os.path.join(root, "build", "app", "reclab-cli"))
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--data", default=os.path.join(root, "..", "shared", "datasets", "ml-100k"))
    p.add_argument("--ref", default=os.path.join(root, "..", "shared", "peers", "seqrec_ref.py"))
    return p
