"""`callengine certificates keygen [--force]`: the document signer's key and certificate,
at the paths the settings name (certificate_key, certificate_signer)."""

from __future__ import annotations


def cmd_keygen(args) -> int:
    from callengine.certificates.keyfiles import generate
    from callengine.cli import _settings
    from callengine.clock import SystemClock

    settings = _settings()
    signer = generate(settings.certificate_key_path, settings.certificate_signer_path,
                      SystemClock().now(), force=args.force)
    print(f"Đã tạo khóa ký {settings.certificate_key_path} (chỉ chủ sở hữu đọc được) và "
          f"chứng thư {settings.certificate_signer_path}; kid {signer.kid.hex()}.")
    return 0


def register(sub) -> None:
    from callengine.cli import command_group

    group = command_group(sub, "certificates", "vaccination certificates (EU DCC)")
    keygen = group.add_parser("keygen", help="write a signing key and a self-signed "
                                             "document-signer certificate (test deployments)")
    keygen.add_argument("--force", action="store_true", help="replace an existing key")
    keygen.set_defaults(func=cmd_keygen)
