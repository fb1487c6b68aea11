"""An external program tuned by parabo: reads its parameters from a JSON file, prints a JSON line.

parabo runs it as  python train.py --params <trial folder>/params.json  in the trial's folder.
"""

import argparse
import json
import math
import time

parser = argparse.ArgumentParser()
parser.add_argument("--params", required=True)
args = parser.parse_args()
with open(args.params) as f:
    p = json.load(f)

time.sleep(0.2)  # stands for real work
loss = (
    (p["x"] - 1.0) ** 2
    + (math.log10(p["lr"]) + 3) ** 2
    + (0.0 if p["activation"] == "relu" else 0.2)
)
print("epoch 1 done")  # ordinary output is fine: parabo reads the last line
print(json.dumps({"loss": loss, "seconds": 0.2}))
