"""FastAGI: Asterisk asks the engine a question during a call (protocol.py pure, server.py I/O)."""
