"""A command that leaves processes behind: a child in its group and a daemon in a session of its own.

Usage: python robust_spawn.py MARKS_DIR NAME [SLEEP]: writes "<child pid> <daemon pid>" to
MARKS_DIR/NAME, prints 1.0 and exits (or sleeps SLEEP seconds first, when MARKS_DIR/slow exists).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

marks, name = sys.argv[1], sys.argv[2]
child = subprocess.Popen(["sleep", "300"])
daemon = subprocess.Popen(["sleep", "301"], start_new_session=True)
with open(os.path.join(marks, name + ".tmp"), "w") as f:
    f.write(f"{child.pid} {daemon.pid}\n")
os.replace(os.path.join(marks, name + ".tmp"), os.path.join(marks, name))
if len(sys.argv) > 3 and os.path.exists(os.path.join(marks, "slow")):
    time.sleep(float(sys.argv[3]))
print(1.0)
