"""The exact shape of a model outside the catalogue, read from its config.json (no weights)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path

from lifecycle.config import hub_allowed
from lifecycle.heavy_imports import building, import_heavy
from lifecycle.selection.catalog import ModelSpec

MAX_CONFIG_BYTES = 2_000_000  # real config.json files are a few KB; tokenizer dumps are not
MAX_PARAMS = 10**16  # what the model record accepts
DEFAULT_CONTEXT = 512  # relative-position models (T5) state no limit; they were trained at 512
# What a saved shape holds, with the range each value must fall in: generous around real models
# (the deepest have ~160 layers, the widest 16-32k hidden units) yet small enough that building
# the meta-device model stays quick.
SHAPE_FIELDS = {
    "params": (1, MAX_PARAMS),
    "layers": (1, 1_000),
    "encoder_layers": (0, 1_000),
    "hidden_size": (1, 65_536),
    "heads": (1, 1_024),
    "kv_heads": (1, 1_024),
    "head_dim": (0, 4_096),
    "vocab_size": (0, 4_000_000),
    "context_length": (1, 100_000_000),
}
ARCHITECTURES = ("encoder-only", "decoder-only", "encoder-decoder")


class ConfigError(ValueError):
    """A config that cannot be read; the message says why and what to do instead."""


def parse_config(text: str | bytes) -> dict:
    """A config.json's text as a dict, or a ConfigError naming the problem."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError("This is larger than any config.json; paste the model's config.json.")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"Not valid JSON ({err}).") from None
    except RecursionError:  # thousands of nested brackets: no config looks like that
        raise ConfigError("Not a config.json: it nests far too deeply.") from None
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise ConfigError('A config.json is a JSON object with a model_type (e.g. "llama").')
    return data


def config_from_folder(folder: str) -> dict:
    """The config.json of a local model folder."""
    path = Path(folder).expanduser() / "config.json"
    if not path.is_file():
        raise ConfigError(f"No config.json in {folder!r}: give the folder that holds the model.")
    return parse_config(path.read_bytes()[: MAX_CONFIG_BYTES + 1])


def config_from_hub(repo_id: str) -> dict:
    """A hub model's config.json (only that file: no weights), when the hub is allowed."""
    if not hub_allowed():
        raise ConfigError("The Hugging Face hub is off (Settings): upload or paste config.json.")
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo_id.strip(), "config.json")
    except Exception as err:  # network, gated repo, unknown id: the hub's own message says which
        raise ConfigError(f"Could not fetch config.json of {repo_id!r}: {err}") from None
    return parse_config(Path(path).read_bytes()[: MAX_CONFIG_BYTES + 1])


def spec_from_config(raw: dict, name: str) -> ModelSpec:
    """The model's shape from transformers' config class; the parameter count from a meta model."""
    config = _config(raw)
    architecture = _architecture(config)
    shape = {**_shape(config, architecture), "architecture": architecture}
    if spec_from_shape({**shape, "params": 1}, name) is None:  # refuse before building anything
        raise ConfigError(
            "This config lacks a usable shape (layers, hidden size, attention heads) or has "
            "values no real model has; enter the model's size instead."
        )
    params = _meta_params(json.dumps(raw, sort_keys=True), architecture)
    spec = spec_from_shape({**shape, "params": params}, name)
    if spec is None:
        raise ConfigError(f"{params:,} parameters is beyond what this app accepts.")
    return spec


def spec_from_shape(shape: dict | None, name: str) -> ModelSpec | None:
    """A ModelSpec from a saved shape; None when any value is missing or out of range."""
    if not isinstance(shape, dict) or shape.get("architecture") not in ARCHITECTURES:
        return None
    values = {}
    for field, (low, high) in SHAPE_FIELDS.items():
        value = shape.get(field, 0 if low == 0 else None)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return None
        values[field] = value
    if values["kv_heads"] > values["heads"]:
        return None
    return ModelSpec(
        id=name,
        name=name,
        family=str(shape.get("model_type", "custom"))[:40],
        architecture=shape["architecture"],
        licence="unknown",
        licence_commercial=False,
        licence_note="Check the model card's licence yourself.",
        instruction_tuned=False,
        tasks=(),
        embedded=False,
        released="",
        notes="Shape read from its config.json.",
        source="config",
        shape_exact=True,
        **values,
    )


def shape_record(spec: ModelSpec) -> dict:
    """What the model record keeps of a config-read model (enough to rebuild the spec)."""
    data = asdict(spec)
    kept = {field: data[field] for field in SHAPE_FIELDS}
    return {**kept, "architecture": spec.architecture, "model_type": spec.family}


def renamed(spec: ModelSpec, name: str) -> ModelSpec:
    """The same shape under another name (the id the user gave it)."""
    return replace(spec, id=name, name=name)


def _config(raw: dict):
    import_heavy()
    from transformers import AutoConfig

    fields = {k: v for k, v in raw.items() if k != "model_type"}
    try:
        return AutoConfig.for_model(raw["model_type"], **fields)
    except (ValueError, KeyError) as err:
        raise ConfigError(
            f"transformers does not know model_type {raw['model_type']!r} ({err}); "
            "enter the model's size instead."
        ) from None
    except (TypeError, AttributeError) as err:  # a value of the wrong type for its field
        raise ConfigError(f"This config does not fit its model type: {err}") from None


def _architecture(config) -> str:
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    if getattr(config, "is_encoder_decoder", False):
        return "encoder-decoder"
    if config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "encoder-only"  # BERT-style: bidirectional, no generation, no KV cache
    return "decoder-only"


def _shape(config, architecture: str) -> dict:
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = _int(text, "num_attention_heads", "n_head", "num_heads")
    hidden = _int(text, "hidden_size", "n_embd", "d_model")
    layers = _int(text, "num_hidden_layers", "n_layer", "num_layers")
    encoder_layers = 0
    if architecture == "encoder-decoder":
        encoder_layers = _int(text, "encoder_layers", "num_layers") or layers
        layers = _int(text, "decoder_layers", "num_decoder_layers") or encoder_layers
        heads = _int(text, "decoder_attention_heads") or heads
    return {
        "layers": layers,
        "encoder_layers": encoder_layers,
        "hidden_size": hidden,
        "heads": heads,
        "kv_heads": _kv_heads(text, heads),
        "head_dim": _int(text, "head_dim", "d_kv"),
        "vocab_size": _int(text, "vocab_size"),
        "context_length": _context(text),
        "model_type": config.model_type,
    }


def _context(config) -> int:
    positions = _int(config, "max_position_embeddings", "n_positions", "seq_length")
    if positions > 2 and ("roberta" in config.model_type or config.model_type == "camembert"):
        return max(1, positions - 2)  # two position slots are taken by the padding offset
    return positions or DEFAULT_CONTEXT


def _kv_heads(config, heads: int) -> int:
    """Grouped-query heads where the config has them; one head for multi-query models."""
    explicit = _int(config, "num_key_value_heads")
    if explicit:
        return explicit
    if getattr(config, "new_decoder_architecture", False):  # Falcon 40B/180B
        return _int(config, "num_kv_heads") or heads
    return 1 if getattr(config, "multi_query", False) else heads


def _int(config, *names: str) -> int:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


@lru_cache(maxsize=32)
def _meta_params(raw_json: str, architecture: str) -> int:
    """Parameters of the model built on the meta device: exact, and no weights are downloaded."""
    import_heavy()
    from accelerate import init_empty_weights
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    config = _config(json.loads(raw_json))
    kind = {"encoder-decoder": AutoModelForSeq2SeqLM, "decoder-only": AutoModelForCausalLM}
    for cls in (kind.get(architecture, AutoModel), AutoModel):
        try:
            with building(), init_empty_weights():  # it patches nn.Module process-wide
                model = cls.from_config(config)
        except (ValueError, KeyError, TypeError, AttributeError, RuntimeError):
            continue  # e.g. no causal-LM head for this type: count the base model instead
        model.tie_weights()  # under init_empty_weights transformers ties only when asked
        return sum(p.numel() for p in model.parameters()) + _untied_head(model, raw_json)
    raise ConfigError("transformers could not build this model type; enter its size instead.")


def _untied_head(model, raw_json: str) -> int:
    """The output layer a checkpoint stores separately when its config says so.

    transformers 5 ties T5's output layer to its input embedding whatever the config says, but
    T5 v1.1 / FLAN-T5 checkpoints keep their own (untied) output layer: count it once more.
    """
    if json.loads(raw_json).get("tie_word_embeddings") is not False:
        return 0
    head, embed = model.get_output_embeddings(), model.get_input_embeddings()
    if head is None or embed is None or head.weight is not embed.weight:
        return 0
    return head.weight.numel()
