"""Vietnamese speech: prompts out (tts), spoken answers in (recognizers -> mapping).

- vietnamese.py: normalisation, accent folding, numbers read aloud (pure)
- mapping.py: map_transcript(text, question) -> SpokenAnswer (pure, table-driven)
- recognizers.py: Recognizer.transcribe(wav) -> Transcript; viet-asr (default), Vosk
- answer.py: recognize_answer(wav, question, recognizer), shared_recognizer() for workers
- tts.py: espeak-ng and gTTS synthesisers (used by callengine.prompts)
- audio.py: sox conversions and 16-bit PCM WAV I/O
- commands.py: `callengine answer parse|recognize`

Importing this package loads no model and no native library.
"""
