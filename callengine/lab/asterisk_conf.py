"""Render the Asterisk configuration files of one lab instance (pure: text in, text out)."""

from __future__ import annotations

from dataclasses import dataclass

MODULES = (
    "res_timing_timerfd.so", "res_sorcery_config.so", "res_sorcery_memory.so",
    "res_sorcery_astdb.so", "res_pjproject.so", "res_pjsip.so", "res_pjsip_session.so",
    "res_pjsip_sdp_rtp.so", "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so", "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_authenticator_digest.so", "res_pjsip_nat.so", "res_pjsip_rfc3326.so",
    "res_pjsip_caller_id.so", "res_pjsip_pubsub.so", "res_cdrel_custom.so",
    "res_pjsip_outbound_registration.so", "res_pjsip_logger.so",
    "res_rtp_asterisk.so", "chan_pjsip.so", "codec_alaw.so", "codec_ulaw.so",
    "format_wav.so", "format_pcm.so", "format_sln.so", "pbx_config.so", "app_read.so",
    "app_playback.so", "app_record.so", "app_userevent.so", "app_senddtmf.so", "app_stack.so",
    "app_verbose.so", "app_waitforsilence.so", "app_echo.so", "func_timeout.so",
    "func_channel.so", "func_cdr.so", "func_strings.so", "func_logic.so", "func_math.so",
    "func_cut.so", "func_callerid.so", "func_groupcount.so", "func_global.so",
    "cdr_custom.so", "res_musiconhold.so", "app_dial.so", "bridge_simple.so",
    "bridge_native_rtp.so", "res_pjsip_dtmf_info.so", "app_mixmonitor.so", "res_agi.so",
    "res_speech.so", "func_env.so", "app_exec.so", "res_manager_devicestate.so",
    "app_playtones.so",
)


@dataclass(frozen=True)
class InstancePaths:
    """Where one instance keeps its files, as seen from inside the root."""

    base: str

    @property
    def etc(self) -> str:
        return f"{self.base}/etc"

    def sub(self, name: str) -> str:
        return f"{self.base}/{name}"


def asterisk_conf(paths: InstancePaths, system_name: str, module_dir: str) -> str:
    return f"""[directories]
astetcdir => {paths.etc}
astmoddir => {module_dir}
astvarlibdir => {paths.sub('lib')}
astdbdir => {paths.sub('lib')}
astkeydir => {paths.sub('lib')}
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {paths.sub('spool')}
astrundir => {paths.sub('run')}
astlogdir => {paths.sub('log')}
astsbindir => /usr/sbin

[options]
systemname = {system_name}
maxcalls = 400
transmit_silence = yes
"""


def modules_conf() -> str:
    loads = "\n".join(f"load => {name}" for name in MODULES)
    return f"[modules]\nautoload = no\n{loads}\n"


def logger_conf() -> str:
    return "[general]\n[logfiles]\nmessages.log => notice,warning,error,verbose(3)\n"


@dataclass(frozen=True)
class Qualify:
    """PJSIP qualify of a trunk's aor: an OPTIONS every frequency seconds, timeout to answer."""

    frequency: int = 2
    timeout: float = 1.0

    def aor_lines(self) -> str:
        return f"qualify_frequency = {self.frequency}\nqualify_timeout = {self.timeout:g}\n"


def _endpoint(name: str, contact_port: int, context: str, extra: str = "",
              qualify: Qualify | None = None) -> str:
    return f"""[{name}]
type = aor
contact = sip:127.0.0.1:{contact_port}
{qualify.aor_lines() if qualify else ""}
[{name}]
type = endpoint
aors = {name}
context = {context}
disallow = all
allow = alaw
dtmf_mode = rfc4733
direct_media = no
rtp_symmetric = yes
media_address = 127.0.0.1
{extra}"""


def _transport(port: int) -> str:
    return f"[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{port}\n\n"


def pbx_pjsip(sip_port: int, carrier_port: int, trunk_endpoints: list[str],
              qualify: Qualify | None = None, contact_ports: dict[str, int] | None = None) -> str:
    """The CDC's PBX: one endpoint per trunk, all towards the lab carrier, each qualified.

    contact_ports re-points a trunk's aor elsewhere (tests: a socket that never answers)."""
    parts = [_transport(sip_port)]
    for name in trunk_endpoints:
        # from_user tells the lab carrier which trunk a call came in on.
        port = (contact_ports or {}).get(name, carrier_port)
        parts.append(_endpoint(name, port, "callengine-inbound", f"from_user = {name}\n",
                               qualify))
    parts.append(f"[carrier-identify]\ntype = identify\nendpoint = {trunk_endpoints[0]}\n"
                 f"match = 127.0.0.1:{carrier_port}\n")
    return "\n".join(parts)


# A real network ends a call whose far end went silent; so does the lab's carrier, so a call
# from a pbx that died (no BYE ever comes) ends within seconds instead of living on. The pbx
# sends silence while it waits on FastAGI (the dialplan's PlayTones), so a slow recognition
# does not look like a dead pbx.
CARRIER_RTP_TIMEOUT = 5


def carrier_pjsip(sip_port: int, pbx_ports: dict[str, int]) -> str:
    """The carrier: one endpoint per pbx (named like it), told apart by its SIP port."""
    parts = [_transport(sip_port)]
    timeouts = f"rtp_timeout = {CARRIER_RTP_TIMEOUT}\nrtp_timeout_hold = {CARRIER_RTP_TIMEOUT}\n"
    for name, port in pbx_ports.items():
        parts.append(_endpoint(name, port, "residents", timeouts)
                     + f"\n[{name}-identify]\ntype = identify\nendpoint = {name}\n"
                     f"match = 127.0.0.1:{port}\n")
    return "\n".join(parts)


def observer_manager(port: int) -> str:
    """A read-only AMI user on the carrier so tests can watch calls independently."""
    return f"""[general]
enabled = yes
bindaddr = 127.0.0.1
port = {port}
displayconnects = no

[observer]
secret = observer
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call
write = reporting
"""
