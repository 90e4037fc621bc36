# Sparsity-aware adaptation (docs/method.md, section 4), shared by the *saa* configs of every
# task: each gene of the layerwise configuration (a pair of blocks) takes a ratio uniformly from
# the choices, sorted inside a stage, in every training iteration; validation and testing keep
# the model's own configuration (dense unless the config says otherwise).
# A child lists it after its dense base and appends the hook to that base's custom hooks:
#   _base_ = ['./<dense config>.py', '../_base_/sparsity_adaptation.py']
#   custom_hooks = _base_.custom_hooks + [_base_.sparsity_adaptation_hook]
sparsity_adaptation_hook = dict(
    type='SparsityAdaptationHook', choices=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    grouping='pair', eval_sparsity=None)
