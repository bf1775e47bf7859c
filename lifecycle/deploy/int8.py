"""Dynamic int8 quantization of Linear layers, outlier-aware, stored in safetensors (no pickle)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from lifecycle.heavy_imports import building

MAX_OUTLIER_RATIO = 100.0  # max|x| / mean|x| of a layer's input above which it stays fp32
INT8_WEIGHTS = "int8_dynamic.safetensors"  # not model.safetensors: HF servers cannot read it
# A short chat like the tasks' prompts: enough to show which layers get outlier activations.
CALIBRATION = [
    {"role": "system", "content": "You are an assistant that writes short, faithful summaries."},
    {
        "role": "user",
        "content": "Summarize the dialogue in one sentence.\n\nDialogue:\nAnna: Are we still "
        "meeting at 6?\nTom: Can we make it 7? My train is late.\nAnna: Sure, see you at 7 at "
        "the cafe.\nSummary:",
    },
]


class Int8Error(Exception):
    """A model dynamic int8 quantization cannot handle; the message says why."""


def linear_names(model: Any) -> list[str]:
    """Names of the plain torch.nn.Linear layers (what dynamic quantization can replace)."""
    import torch

    return [n for n, m in model.named_modules() if type(m) is torch.nn.Linear]


def outlier_ratios(model: Any, tokenizer: Any) -> dict[str, float]:
    """max|x| / mean|x| of each Linear layer's input on a calibration chat.

    Dynamic int8 uses one scale for a whole activation tensor, so a layer fed a few huge values
    (the "massive activations" of LLM MLP outputs) rounds every other value to zero.
    """
    import torch

    text = CALIBRATION[-1]["content"]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            CALIBRATION, add_generation_prompt=True, tokenize=False
        )
    ids = torch.tensor([tokenizer(text)["input_ids"]])
    ratios: dict[str, float] = {}

    def record(name: str, inputs: tuple) -> None:
        x = inputs[0].detach().abs().float()
        ratios[name] = max(ratios.get(name, 0.0), float(x.max() / x.mean().clamp_min(1e-12)))

    modules = dict(model.named_modules())
    hooks = [
        modules[n].register_forward_pre_hook(lambda m, i, n=n: record(n, i))
        for n in linear_names(model)
    ]
    try:
        extra = {"decoder_input_ids": ids[:, :4]} if model.config.is_encoder_decoder else {}
        with torch.no_grad():
            model(input_ids=ids, **extra)
    finally:
        for hook in hooks:
            hook.remove()
    return ratios


def quantize(model: Any, tokenizer: Any = None, max_ratio: float = MAX_OUTLIER_RATIO) -> Any:
    """A copy with int8 Linear weights (per output channel), outlier-fed layers left in fp32."""
    import torch

    model_type = getattr(model.config, "model_type", type(model).__name__)
    names = linear_names(model)
    if not [n for n in names if n.split(".")[-1] not in ("lm_head", "score")]:
        raise Int8Error(
            f"{model_type} has no torch.nn.Linear layers in its blocks (GPT-2-style models use "
            "Conv1D), so dynamic int8 quantization would change nothing. Use the bf16 variant, "
            "or a GGUF int8 build for llama.cpp."
        )
    ratios = outlier_ratios(model, tokenizer) if tokenizer is not None else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice: still the stock API here
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {n: per_channel_dynamic_qconfig for n in names if ratios.get(n, 0.0) <= max_ratio}
        try:
            with building():  # it builds new modules: not under another load's patches
                return quantize_dynamic(model, spec, dtype=torch.qint8)
        except (RuntimeError, AssertionError, NotImplementedError) as err:
            raise Int8Error(f"{model_type} could not be quantized to int8: {err}") from err


def packed_bytes(model: Any) -> int:
    """Bytes of the packed int8 weights and their biases (not in parameters or buffers)."""
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    total = 0
    for module in model.modules():
        if isinstance(module, QLinear):
            weight, bias = module._packed_params._weight_bias()
            total += weight.numel() * weight.element_size()
            total += bias.numel() * bias.element_size() if bias is not None else 0
    return total


def to_tensors(model: Any) -> tuple[dict, list[str]]:
    """Safetensors-ready tensors: int8 weights with their scales and zero points, the rest as is.

    safetensors has no quantized dtype and the packed params are an opaque tuple, so each
    quantized weight is stored as its int8 values plus per-channel scales and zero points.
    """
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    tensors, names = {}, []
    for name, module in model.named_modules():
        if isinstance(module, QLinear):
            weight, bias = module._packed_params._weight_bias()
            names.append(name)
            tensors[f"{name}.weight"] = weight.int_repr().contiguous()
            if weight.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                tensors[f"{name}.weight_scale"] = weight.q_per_channel_scales().contiguous()
                tensors[f"{name}.weight_zero_point"] = weight.q_per_channel_zero_points()
                tensors[f"{name}.weight_axis"] = torch.tensor(weight.q_per_channel_axis())
            else:
                tensors[f"{name}.weight_scale"] = torch.tensor(weight.q_scale())
                tensors[f"{name}.weight_zero_point"] = torch.tensor(weight.q_zero_point())
            if bias is not None:
                tensors[f"{name}.bias"] = bias.detach().contiguous()
    owned = tuple(f"{n}." for n in names)
    for key, value in model.state_dict().items():
        if not key.startswith(owned) and isinstance(value, torch.Tensor):
            tensors[key] = value.detach().clone().contiguous()  # clone: tied tensors unshared
    return tensors, names


def _qweight(tensors: dict, name: str) -> Any:
    import torch

    values, scale = tensors[f"{name}.weight"], tensors[f"{name}.weight_scale"]
    zero = tensors[f"{name}.weight_zero_point"]
    if scale.dim() == 0:
        return torch._make_per_tensor_quantized_tensor(values, float(scale), int(zero))
    axis = int(tensors[f"{name}.weight_axis"])
    return torch._make_per_channel_quantized_tensor(values, scale, zero, axis)


def load_into(model: Any, folder: Path, quantized: list[str]) -> Any:
    """Fill an uninitialised fp32 model from the int8 file, swapping in int8 Linear layers."""
    from safetensors.torch import load_file
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    tensors = load_file(str(Path(folder) / INT8_WEIGHTS))
    owned = tuple(f"{n}." for n in quantized)
    rest = {k: t for k, t in tensors.items() if not k.startswith(owned)}
    # Plain tensors first: quantized modules refuse a state dict without their own keys.
    missing, unexpected = model.load_state_dict(rest, strict=False)
    missing = [k for k in missing if not k.startswith(owned)]
    if missing or unexpected:
        raise Int8Error(
            f"The int8 weights in {folder} do not match the model: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}."
        )
    for name in quantized:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        linear, bias = getattr(parent, child), tensors.get(f"{name}.bias")
        q = QLinear(linear.in_features, linear.out_features, bias_=bias is not None)
        q.set_weight_bias(_qweight(tensors, name), bias)
        setattr(parent, child, q)
    return model
