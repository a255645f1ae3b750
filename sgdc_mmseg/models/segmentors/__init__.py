"""Segmentors registered in mmseg's MODELS registry."""
from .structure_encoder_decoder import EDGE_KEY, StructureEncoderDecoder

__all__ = ['EDGE_KEY', 'StructureEncoderDecoder']
