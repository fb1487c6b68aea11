import sys, numpy as np, math
sys.path.insert(0,'/work/main/benchmarks/gp'); sys.path.insert(0,'/work/main/src')
from problems import PROBLEMS
from parabo.samplers.sobol import sobol_points
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
prob=PROBLEMS['hartmann6']; seed=int(sys.argv[1])
U=sobol_points(6,0,9,seed=seed % 2**32)
st=optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed,n_startup_trials=9))
names=list(prob.space)
for u in U: st.enqueue_trial({n:float(v) for n,v in zip(names,u)})
def obj(t):
    return prob.f({n:t.suggest_float(n,0,1) for n in names})
st.optimize(obj,n_trials=100)
print('seed',seed,'best',st.best_value, math.log10(st.best_value-prob.fstar))
