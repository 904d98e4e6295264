"""classify: the policy's detectors over one comment → findings with evidence spans."""

from streams.classify.classifier import FACTORIES, Classifier
from streams.classify.lexicon import LexiconError
from streams.classify.names import NameRegistry, RegistryError, load_registry, parse_registry

__all__ = [
    "FACTORIES",
    "Classifier",
    "LexiconError",
    "NameRegistry",
    "RegistryError",
    "load_registry",
    "parse_registry",
]
