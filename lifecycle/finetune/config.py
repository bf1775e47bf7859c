"""Fine-tune settings: one frozen dataclass with commented defaults, checked before launch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lifecycle.finetune.data import DataError
from lifecycle.typed import dataclass_from

METHODS = ("lora", "full", "dpo")
ADAPTER_METHODS = ("lora", "dpo")  # methods whose run saves a LoRA adapter in final/
# LoRA targets per architecture (config.model_type): the attention projections, as in the LoRA
# paper; anything else falls back to every Linear layer except the output head.
LORA_TARGETS = {
    "llama": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "mistral": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "qwen2": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "qwen3": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "gemma": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "gemma2": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "phi3": ("qkv_proj", "o_proj"),
    "phi": ("q_proj", "k_proj", "v_proj", "dense"),
    "gpt2": ("c_attn", "c_proj"),
    "gpt_neox": ("query_key_value", "dense"),
    "falcon": ("query_key_value", "dense"),
    "bloom": ("query_key_value", "dense"),
    "opt": ("q_proj", "k_proj", "v_proj", "out_proj"),
}
FAN_IN_FAN_OUT = {"gpt2"}  # GPT-2 stores Conv1D weights transposed: peft must be told
MAX_STEPS = 5000  # a CPU run beyond this takes days: almost surely a typo
MAX_RANK = 256  # LoRA's point is a low-rank update; beyond this, tune every weight instead


@dataclass(frozen=True)
class FinetuneConfig:
    """Everything that defines a fine-tune run (saved with the run, shown in the registry)."""

    base_ref: str = ""  # model reference as the loader understands it
    task_id: str = "summarization"  # whose prompt kit frames each example
    method: str = "lora"  # lora | full
    lora_r: int = 16  # adapter rank: capacity of the update
    lora_alpha: int = 32  # update scale = alpha / r; 2 x r is the usual start
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ()  # empty: the architecture's default (LORA_TARGETS)
    learning_rate: float = 3e-4  # LoRA tolerates ~10x the full fine-tune rate (5e-5)
    epochs: float = 3.0  # ~70 steps on the shipped summaries: about 10 minutes on 2 CPU cores
    max_steps: int = 0  # > 0 overrides epochs
    batch_size: int = 8
    grad_accum: int = 1  # effective batch = batch_size x grad_accum x processes
    processes: int = 1  # > 1: torchrun starts one DDP rank each (gloo on CPU, nccl on GPUs)
    max_len: int = 320  # tokens; the shipped summaries need up to 282 with the task prompt
    warmup_ratio: float = 0.05
    seed: int = 0
    val_share: float = 0.1
    eval_every: int = 20  # steps between validation losses and sample generations
    save_every: int = 20  # steps between checkpoints (resume points)
    keep_checkpoints: int = (
        3  # newest checkpoints kept (0 = all): a full fine-tune's is ~3x the model
    )
    samples: int = 3  # fixed validation inputs generated at every evaluation
    sample_tokens: int = 64  # new tokens per sample generation
    bf16: bool = False  # bf16 autocast: ~25 % faster on CPUs with bf16 support, slightly noisier
    extra: dict = field(default_factory=dict)  # free-form notes (dataset name, hash)

    def check(self) -> None:
        """Refuse settings no run can use, naming the knob."""
        if not self.base_ref.strip():
            raise DataError("Choose a base model to fine-tune.")
        if self.method not in METHODS:
            raise DataError(f"Unknown method {self.method!r}: choose LoRA or full.")
        if self.learning_rate <= 0:
            raise DataError("The learning rate must be positive (LoRA: ~1e-4 to 5e-4).")
        if self.learning_rate > 1e-2:
            raise DataError("A learning rate above 0.01 destroys a pretrained model: lower it.")
        if self.batch_size < 1:
            raise DataError("The batch size must be at least 1.")
        if self.grad_accum < 1:
            raise DataError("Gradient accumulation must be at least 1 (1 = none).")
        if self.max_steps < 0 or self.max_steps > MAX_STEPS:
            raise DataError(f"Max steps must be between 0 (use epochs) and {MAX_STEPS:,}.")
        if self.max_steps == 0 and not 0 < self.epochs <= 100:
            raise DataError("Epochs must be above 0 (and at most 100) when max steps is 0.")
        if self.method in ADAPTER_METHODS and self.lora_r < 1:
            raise DataError("The LoRA rank r must be at least 1.")
        if self.method in ADAPTER_METHODS and self.lora_alpha < 1:
            raise DataError("The LoRA alpha must be at least 1.")
        if not 0 <= self.lora_dropout < 1 or not 0 <= self.warmup_ratio < 1:
            raise DataError("Dropout and warm-up share must be in [0, 1).")
        if self.eval_every < 1 or self.save_every < 1:
            raise DataError("Evaluation and checkpoint intervals must be at least 1 step.")
        if self.keep_checkpoints < 0:
            raise DataError("Checkpoints kept must be 0 (all of them) or more.")
        if self.seed < 0:
            raise DataError("The seed must be 0 or more.")
        if self.method in ADAPTER_METHODS and self.lora_r > MAX_RANK:
            raise DataError(
                f"LoRA rank above {MAX_RANK} is a full fine-tune in disguise: lower it."
            )
        if self.processes < 1:
            raise DataError("Processes must be at least 1.")
        # How many processes this machine runs is checked at launch (distributed.check_processes):
        # a saved config stays valid when it is read on a machine with fewer cores.
        if self.processes != 1 and self.method not in ("lora", "full"):
            raise DataError("Multi-process training runs LoRA and full fine-tunes: use 1 process.")

    @property
    def effective_batch(self) -> int:
        """Examples per optimiser step over every process."""
        return self.batch_size * self.grad_accum * self.processes

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> FinetuneConfig:
        """From a saved run (unknown keys ignored, so old runs keep loading)."""
        return dataclass_from(cls, data)


def default_targets(model_type: str, linear_names: list[str]) -> tuple[str, ...]:
    """LoRA target modules for an architecture; every Linear but the head when unknown."""
    if model_type in LORA_TARGETS:
        return LORA_TARGETS[model_type]
    names = sorted({n.rsplit(".", 1)[-1] for n in linear_names} - {"lm_head"})
    return tuple(names)
