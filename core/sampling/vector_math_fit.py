#!/usr/bin/env python3
"""Regenerates core/sampling/vector_math_coefficients.h (needs mpmath): Chebyshev
interpolants of erf/erfc pieces, converted to monomials in the scaled variable."""
import mpmath as mp
mp.mp.dps = 50
def chebfit(f, lo, hi, n):
    # Chebyshev interpolation at n+1 nodes in s in [-1,1], x = mid + half*s
    mid=(lo+hi)/2; half=(hi-lo)/2
    N=n+1
    nodes=[mp.cos(mp.pi*(k+mp.mpf(1)/2)/N) for k in range(N)]
    fv=[f(mid+half*s) for s in nodes]
    c=[]
    for j in range(N):
        c.append(2*mp.fsum(fv[k]*mp.cos(mp.pi*j*(k+mp.mpf(1)/2)/N) for k in range(N))/N)
    c[0]/=2
    # convert to monomial in s
    T=[[mp.mpf(1)],[mp.mpf(0),mp.mpf(1)]]
    for k in range(2,N):
        a=[mp.mpf(0)]+[2*x for x in T[k-1]]
        b=T[k-2]+[mp.mpf(0)]*(len(a)-len(T[k-2]))
        T.append([a[i]-b[i] for i in range(len(a))])
    m=[mp.mpf(0)]*N
    for j in range(N):
        for i,x in enumerate(T[j]): m[i]+=c[j]*x
    return m, mid, half
def maxerr(f, m, mid, half, lo, hi, rel=True, prec=None):
    e=0
    for i in range(2001):
        x=lo+(hi-lo)*i/mp.mpf(2000)
        s=(x-mid)/half
        p=mp.mpf(0)
        for cc in reversed(m): p=p*s+cc
        v=f(x)
        e=max(e, abs(p-v)/abs(v) if rel else abs(p-v))
    return e
R=lambda a: mp.exp(a*a)*mp.erfc(a)
g=lambda t: mp.erf(mp.sqrt(t))/mp.sqrt(t) if t>0 else 2/mp.sqrt(mp.pi)
h=lambda t: mp.sqrt(mp.pi)*mp.exp(1/t)*mp.erfc(1/mp.sqrt(t))/mp.sqrt(t) if t>0 else mp.mpf(1)
def emit(name, f, lo, hi, n, rel=True):
    m,mid,half=chebfit(f,mp.mpf(lo),mp.mpf(hi),n)
    err = maxerr(f, m, mid, half, lo, hi, rel=rel)
    print("// %s: interval [%s, %s], degree %d, max %s error %s" % (
        name, mp.nstr(lo, 6), mp.nstr(hi, 6), n, "rel." if rel else "abs.",
        mp.nstr(err, 2)))
    print("inline constexpr double %s[] = {" % name)
    for c in m: print("    %.17e," % float(c))
    print("};")
    print("inline constexpr double %sMid = %.17e, %sHalf = %.17e;" % (name, float(mid), name, float(half)))
emit("kErfSmallF", g, 0, 1, 6)
emit("kErfSmallD", g, 0, 1, 11)
emit("kErfcMidF", R, 1, 4, 11)
emit("kErfcMidD", R, 1, 6, 27)
emit("kErfcTailF", h, 0, mp.mpf(1)/16, 5)
emit("kErfcTailD", h, 0, mp.mpf(1)/36, 9)
ec=lambda a: mp.erfc(a)
emit("kErfFastSmallF", g, 0, 4, 9)
emit("kErfFastTailF", ec, 2, 4, 10, rel=False)
