"""Command-line subcommands of this area, registered by callengine.cli.

    callengine answer parse --question fever "không sốt" [--json]
    callengine answer recognize --question fever answer.wav [--json] [--engine vosk --model DIR]
"""

from __future__ import annotations

import json
from pathlib import Path

ENGINES = ("viet-asr", "vosk")


def _question(args):
    from callengine.errors import ConfigError
    from callengine.questionnaire import load_questionnaire

    if args.questionnaire:
        path = Path(args.questionnaire)
    else:
        from callengine.settings import load_settings

        path = load_settings().questionnaire
    questionnaire = load_questionnaire(path)
    try:
        return questionnaire.question(args.question)
    except KeyError:
        raise ConfigError(f"unknown question {args.question!r}: one of "
                          f"{', '.join(questionnaire.question_ids)}") from None


def _threshold(args) -> float:
    from callengine.speech.mapping import DEFAULT_THRESHOLD

    return DEFAULT_THRESHOLD if args.threshold is None else args.threshold


def _print(data: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        if value is not None:
            print(f"{key}: {value}")


def cmd_answer_parse(args) -> int:
    from callengine.speech.mapping import map_transcript

    text = " ".join(args.text)
    answer = map_transcript(text, _question(args), confidence=args.confidence,
                            threshold=_threshold(args))
    _print({"text": text, **answer.as_dict(), "confidence": args.confidence}, args.json)
    return 0


def cmd_answer_recognize(args) -> int:
    from callengine.errors import ConfigError
    from callengine.speech.answer import recognize_answer, shared_recognizer

    question = _question(args)
    if args.model and args.engine != "vosk":
        raise ConfigError("--model is the Vosk model directory: use it with --engine vosk")
    options = {"model_dir": Path(args.model)} if args.engine == "vosk" and args.model else {}
    recognizer = shared_recognizer(args.engine, **options)
    result = recognize_answer(Path(args.file), question, recognizer,
                              threshold=_threshold(args))
    _print(result.as_dict(), args.json)
    return 0


def _common(parser) -> None:
    parser.add_argument("--question", required=True, metavar="ID",
                        help="question id in the questionnaire, e.g. fever")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--threshold", type=float,
                        help="confidence below which the answer is 'unknown' (default 0.5)")
    parser.add_argument("--questionnaire", metavar="YAML",
                        help="questionnaire file (default: the configured one)")


def register(subparsers) -> None:
    """Add this area's subcommands to the `callengine` parser."""
    answer = subparsers.add_parser("answer", help="spoken answers: how a transcript or a "
                                                  "recording is understood")
    answer_sub = answer.add_subparsers(dest="answer_command", required=True)

    parse = answer_sub.add_parser("parse", help="the answer a transcript maps to")
    _common(parse)
    parse.add_argument("--confidence", type=float, help="the recogniser's confidence, 0..1")
    parse.add_argument("text", nargs="+", help="the transcript")
    parse.set_defaults(func=cmd_answer_parse)

    recognize = answer_sub.add_parser("recognize", help="transcribe a recording and map it")
    _common(recognize)
    recognize.add_argument("--engine", choices=ENGINES, default="viet-asr",
                           help="recogniser (default viet-asr, offline)")
    recognize.add_argument("--model", metavar="DIR", help="Vosk model directory")
    recognize.add_argument("file", help="the recording (WAV, any rate; converted with sox)")
    recognize.set_defaults(func=cmd_answer_recognize)
