import sys, os, statistics, time, torch
sys.path.insert(0, '/work/main/projects/sparsevit'); sys.path.insert(0, '/tmp/w/oldpkg')
from sparsevit.models.backbones.sparse_swin import SparseSwinTransformer as New
from sparsevit_old.models.backbones.sparse_swin import SparseSwinTransformer as Old
torch.set_num_threads(2)
kw = dict(embed_dims=96, depths=(2,2,6,2), num_heads=(3,6,12,24), window_size=7, out_indices=(0,1,2,3))
torch.manual_seed(0); new = New(**kw).eval(); old = Old(**kw).eval(); old.load_state_dict(new.state_dict())
H, W, B = [int(v) for v in os.environ.get('S', '672,672,1').split(',')]
x = torch.randn(B, 3, H, W)
cfgs = {'dense': 0.0, 'u6': 0.6, 'u8': 0.8}
calls = {}
for n, r in cfgs.items():
    for v, m in (('old', old), ('new', new)):
        calls[f'{v} {n}'] = (m, [r]*4)
t = {k: [] for k in calls}
rounds = int(os.environ.get('N', 12))
with torch.inference_mode():
    for i in range(rounds + 2):
        for k, (m, c) in (list(calls.items()) if i % 2 else list(calls.items())[::-1]):
            m.sparsity = c
            a = time.perf_counter(); m(x); e = time.perf_counter() - a
            if i >= 2: t[k].append(e * 1000)
def mh(v):
    v = sorted(v); q = len(v) // 4; v = v[q:len(v) - q]; return sum(v) / len(v)
for v in ('old', 'new'):
    d = mh(t[f'{v} dense'])
    print(v, ' '.join(f'{n} {mh(t[f"{v} {n}"]):.1f} ({mh(t[f"{v} {n}"])/d:.3f})' for n in cfgs))
