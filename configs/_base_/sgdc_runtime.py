# mmseg's default runtime plus what every sgdc_mmseg config needs:
# the plugin import and RNGStateHook (bit-exact --resume, also when the
# config is run with mmseg's own tools/train.py).
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['sgdc_mmseg'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook')]
