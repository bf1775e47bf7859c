"""In-context prompts: a template with {variables}, 0-5 demonstrations, rendered as a chat."""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass, field

from lifecycle.models.fitting import check_fits, cut_input, longest_fit, room, word_end
from lifecycle.models.protocol import ChatModel, GenParams
from lifecycle.tasks import Demonstration, Task

SHOTS = (0, 1, 2, 3, 5)  # the shot selector's choices


class PromptError(ValueError):
    """A template that cannot be filled; the message says how to fix it."""


@dataclass(frozen=True)
class PromptSpec:
    """Everything that defines a prompt (saved as a version with the parameters and model)."""

    system: str = "You are a helpful assistant."
    instruction: str = ""
    template: str = "{input}"
    shots: int = 0
    examples: tuple[Demonstration, ...] = field(default_factory=tuple)

    @classmethod
    def for_task(cls, task: Task, shots: int = 0) -> PromptSpec:
        """The task's own prompt kit from the task table."""
        p = task.prompt
        return cls(p.system, p.instruction, p.template, shots, p.examples)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["examples"] = [asdict(e) for e in self.examples]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> PromptSpec:
        """From a saved version."""
        examples = tuple(
            Demonstration(str(e["input"]), str(e["output"])) for e in data.get("examples", ())
        )
        return cls(
            str(data.get("system", "")),
            str(data.get("instruction", "")),
            str(data.get("template", "{input}")),
            int(data.get("shots", 0)),
            examples,
        )


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal text, variable name or None) pieces; only plain {name} placeholders pass."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise PromptError(
            f"The template has a stray brace ({err}); write {{{{ or }}}} for a literal brace."
        ) from err
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None and not name.isidentifier():
            raise PromptError(f"“{{{name}}}” is not a valid variable name: use letters, digits, _.")
        if spec or conversion:
            # A format spec such as {input:>4000000000} would allocate gigabytes on each render.
            written = (
                "{"
                + (name or "")
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise PromptError(
                f"Write the variable as plain {{{name}}}: “{written}” has a format or a "
                "conversion, which a template does not allow."
            )
        parts.append((literal, name))
    return parts


def variables(template: str) -> list[str]:
    """The {names} a template needs, in order of first use; refuses anything but plain {name}."""
    names: list[str] = []
    for _, name in _parts(template):
        if name is not None and name not in names:
            names.append(name)
    return names


def fill(template: str, values: dict[str, str]) -> str:
    """The template with every variable replaced; names a missing one."""
    parts = _parts(template)
    missing = [name for name in variables(template) if not str(values.get(name, "")).strip()]
    if missing:
        raise PromptError(f"Fill in {', '.join('{' + m + '}' for m in missing)}.")
    # Plain substitution, not str.format: the values are inserted as they are, nothing evaluated.
    return "".join(literal + (str(values[name]) if name else "") for literal, name in parts)


def build_messages(spec: PromptSpec, values: dict[str, str]) -> list[dict[str, str]]:
    """System message, `shots` demonstrations as past turns, then the user's input."""
    if spec.shots not in SHOTS:
        raise PromptError(f"Choose 0, 1, 2, 3 or 5 examples (not {spec.shots}).")
    if spec.shots > len(spec.examples):
        raise PromptError(f"Only {len(spec.examples)} examples exist for {spec.shots}-shot.")
    head = f"{spec.instruction.strip()}\n\n" if spec.instruction.strip() else ""
    # A system message is always sent: without one, SmolLM2's template injects its own.
    messages = [{"role": "system", "content": spec.system.strip() or PromptSpec.system}]
    for ex in spec.examples[: spec.shots]:
        messages.append(
            {"role": "user", "content": head + fill(spec.template, {**values, "input": ex.input})}
        )
        messages.append({"role": "assistant", "content": ex.output})
    messages.append({"role": "user", "content": head + fill(spec.template, values)})
    return messages


@dataclass(frozen=True)
class FittedPrompt:
    """The messages actually sent, and how many input tokens were cut to fit the window."""

    messages: list[dict[str, str]]
    prompt_tokens: int
    dropped_tokens: int = 0
    kept_chars: int | None = None  # characters of the input kept, when it was cut


def _cut_variable(spec: PromptSpec, values: dict[str, str]) -> str:
    """The variable to shorten: {input}, else the longest one the template uses."""
    names = variables(spec.template)
    if "input" in names:
        return "input"
    return max(names, key=lambda n: len(str(values.get(n, ""))), default="")


def fit_prompt(lm: ChatModel, spec: PromptSpec, values: dict[str, str], params: GenParams):
    """The prompt for this model; over the window, only the end of the input is cut.

    The system message, the instruction, the examples and the template stay as written; with
    truncation off an over-long prompt is refused (ContextError) as the runtimes do.
    """
    messages = build_messages(spec, values)
    used = lm.count_tokens(messages)
    if not lm.exact_tokens and not params.truncate:
        return FittedPrompt(messages, used)  # an estimate refuses nothing: the server decides
    if check_fits(lm, used, params):
        return FittedPrompt(messages, used)
    name, space = _cut_variable(spec, values), room(lm, params)
    text = str(values.get(name, ""))

    def build(n: int) -> list[dict[str, str]]:
        return build_messages(spec, {**values, name: cut_input(text, word_end(text, n))})

    if not name or lm.count_tokens(build(0)) > space:
        bare = lm.count_tokens(build(0)) if name else used
        raise PromptError(
            f"Without its input the prompt still has {bare:,} tokens, over the {space:,} the "
            "window leaves: use fewer examples, a shorter instruction or fewer new tokens."
        )
    fitted, kept = longest_fit(len(text), build, lambda m: lm.count_tokens(m) <= space)
    sent = lm.count_tokens(fitted)
    return FittedPrompt(fitted, sent, used - sent, word_end(text, kept))
