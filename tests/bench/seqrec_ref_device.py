#!/usr/bin/env python3
"""Runs the plain PyTorch sequence reference (../shared/peers/seqrec_ref.py, which has no device
option) on a GPU, unchanged: its data tensors, masks and model are created on DEVICE through
torch.set_default_device, and the default is lifted again when the script builds its optimizer
(before the first training step), so the device mode costs nothing per step. Needs PyTorch 2.x.

Usage: seqrec_ref_device.py --device cuda REF.py [the reference's own options]
"""
import runpy, sys

import torch

if len(sys.argv) < 4 or sys.argv[1] != "--device":
    sys.exit("usage: seqrec_ref_device.py --device DEVICE REF.py [options]")
device, ref = sys.argv[2], sys.argv[3]
sys.argv = [ref] + sys.argv[4:]

adam_init = torch.optim.Adam.__init__


def lift_then_init(self, *args, **kwargs):
    torch.set_default_device(None)
    adam_init(self, *args, **kwargs)


torch.optim.Adam.__init__ = lift_then_init
torch.set_default_device(device)
runpy.run_path(ref, run_name="__main__")
