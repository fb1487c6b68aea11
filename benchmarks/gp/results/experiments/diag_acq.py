import sys, numpy as np
sys.path.insert(0,'/work/main/benchmarks/gp')
from problems import PROBLEMS
import parabo.samplers.gp as sg
from parabo.gp import optimize as opt
from parabo.space import Space
from parabo.trial import Trial, TrialState
prob=PROBLEMS['hartmann6']; space=Space(prob.space)
seed=int(sys.argv[1]); 
orig=sg.maximize_acquisition
state={'n':0}
def wrapped(acq, domain, cand, forbidden, **kw):
    F,v=orig(acq,domain,cand,forbidden,**kw)
    n=state['n']
    if n in (40,60,80,95):
        rng=np.random.default_rng(0)
        C=rng.random((20000,6)); cv,_=acq(C,False)
        F2,v2=orig(acq,domain,C,forbidden,n_starts=30,maxiter=200)
        print(f"n={n} ours={v[0]:.3f} at {np.round(F[0],2)}  big={v2[0]:.3f} at {np.round(F2[0],2)}", flush=True)
    return F,v
sg.maximize_acquisition=wrapped
s=sg.GPSampler(seed=seed)
hist=[]
for i in range(100):
    state['n']=i
    p=s.ask(space,hist,[],1)[0]
    hist.append(Trial(i,p).evolve(state=TrialState.COMPLETE,value=prob.f(dict(p))))
    if i in (40,60,80,95):
        vals=[t.value for t in hist]; b=int(np.argmin(vals))
        th=s._fit.theta; print('ls',np.round(np.exp(th[:6]),3),'s2',round(float(np.exp(th[6])),3),'g',float(np.exp(th[7])))
        print(i,'best',min(vals),np.round(space.to_unit_array([hist[b].params])[0],2),flush=True)
