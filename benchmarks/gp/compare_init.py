"""Median [q25, q75] (seeds) log10 regret at 100 evaluations: Sobol vs random initial design, with peers.

Run from the repository root after
    benchmarks/.venv/bin/python benchmarks/gp/run.py --method parabo --problem P --seeds 0-9 --budget 100 --tag init_random --option init=random
"""
import json, glob, math, statistics
probs = ["branin","hartmann6","ackley5","rosenbrock4","levy10","styblinski8","mixed"]
def regrets(tag, p):
    out=[]
    for f in sorted(glob.glob(f'benchmarks/gp/results/raw/{tag}__{p}__q0__s*.json')):
        d=json.load(open(f)); v=d['values'][:100]
        best=min(x for x in v if x is not None)
        out.append(math.log10(max(best-d['fstar'],1e-12)))
    return out
def q(xs):
    xs=sorted(xs); n=len(xs)
    if not n: return "-"
    return f"{statistics.median(xs):.2f} [{xs[n//4]:.2f}, {xs[(3*n)//4]:.2f}] ({n})"
print("| problem | parabo sobol init (default) | parabo init=random | optuna TPE | optuna GP |")
print("|---|---|---|---|---|")
for p in probs:
    print(f"| {p} | {q(regrets('parabo',p))} | {q(regrets('init_random',p))} | {q(regrets('tpe',p))} | {q(regrets('optuna_gp',p))} |")
