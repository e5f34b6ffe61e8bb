#!/usr/bin/env python3
# Usage: load-tests/scripts/takeover-split.py /tmp/takeover-<label>.txt /tmp/takeover-<label>
# Splits each kill of a takeover run: from the kill to the first call reaching an instance, the
# read and claim, the chat and title, the room ready; then the host joined and its first seek
# accepted (TakeoverLoad output joined with the new owners' "taken over" log lines).
import re,sys,glob,datetime
kills=[]
for line in open(sys.argv[1]):
    m=re.match(r'kill (\d+) of \d+ at (\d\d:\d\d:\d\d\.\d+): owner \S+, takeover (\d+) ms \(the host.s stream ended after (\d+) ms, joined again after (\d+) ms',line)
    if m: kills.append((int(m.group(1)),m.group(2),int(m.group(3)),int(m.group(4)),int(m.group(5))))
taken=[]
for f in glob.glob(sys.argv[2]+'/*.log'):
    for line in open(f):
        m=re.match(r'(\d\d:\d\d:\d\d\.\d+) INFO .*taken over from .*read and claimed in (\d+) ms, its chat and title loaded in (\d+) ms more',line)
        if m: taken.append((m.group(1),int(m.group(2)),int(m.group(3))))
def t(s):
    h,mi,se=s.split(':'); return int(h)*3600+int(mi)*60+float(se)
taken.sort(key=lambda x:t(x[0]))
ready=[];firstcall=[]
for k,at,tk,told,back in kills:
    after=[x for x in taken if t(x[0])>t(at)]
    if not after: continue
    x=after[0]; r=(t(x[0])-t(at))*1000
    ready.append(r); firstcall.append(r-x[1]-x[2])
    print(f"kill {k}: first call +{r-x[1]-x[2]:.0f} ms, read+claim {x[1]} ms, chat+title {x[2]} ms, room ready +{r:.0f} ms; host joined +{back} ms; first seek accepted +{tk} ms")
def pct(v,p):
    v=sorted(v); import math; return v[min(len(v)-1,math.ceil(p*len(v))-1)]
print(f"room ready after kill: p50 {pct(ready,.5):.0f} ms, p99 {pct(ready,.99):.0f} ms, n={len(ready)}")
tks=[k[2] for k in kills]; backs=[k[4] for k in kills]
print(f"host joined again: p50 {pct(backs,.5)} ms, p99 {pct(backs,.99)} ms; first seek accepted: p50 {pct(tks,.5)} p99 {pct(tks,.99)}")
