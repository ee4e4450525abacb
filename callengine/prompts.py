"""Render the questionnaire's prompts to telephone audio with espeak-ng (offline).

Each prompt becomes sounds/vi/<id>.wav (8 kHz mono 16-bit) and <id>.alaw, normalised with
headroom and trimmed of silence. A human recording named sounds/vi/custom/<id>.wav replaces
the synthesised one. The voice issue adds gTTS, a manifest and content addressing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from callengine.errors import CallengineError
from callengine.questionnaire import Questionnaire

SOX_TELEPHONE = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
# Trim leading/trailing silence, then normalise to -3 dBFS so nothing clips.
SOX_EFFECTS = ["silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%",
               "reverse", "gain", "-n", "-3"]


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise CallengineError(f"{command[0]} failed: {result.stderr.strip()[:200]}")


def _require(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        raise CallengineError(f"{tool} is not installed: apt-get install -y {package}")


def render_prompt(text: str, target: Path, voice: str = "vi", speed: int = 135) -> None:
    """Speak text with espeak-ng into target (.wav) and a raw A-law twin."""
    _require("espeak-ng", "espeak-ng")
    _require("sox", "sox")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        _run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text])
        _convert(raw, target)


def _convert(source: Path, target: Path) -> None:
    _run(["sox", str(source), *SOX_TELEPHONE, str(target), *SOX_EFFECTS])
    _run(["sox", str(target), "-t", "al", str(target.with_suffix(".alaw"))])


def build_prompts(questionnaire: Questionnaire, folder: Path) -> list[Path]:
    """Render every prompt and question; custom recordings win over synthesis."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {**questionnaire.prompts, **{q.id: q.text for q in questionnaire.questions}}
    written = []
    for prompt_id, text in texts.items():
        target = folder / f"{prompt_id}.wav"
        custom = folder / "custom" / f"{prompt_id}.wav"
        if custom.exists():
            _convert(custom, target)
        else:
            render_prompt(text, target)
        written.append(target)
    return written
