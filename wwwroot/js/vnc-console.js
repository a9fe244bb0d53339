// The graphical console: noVNC on a WebSocket to /vms/{id}/vnc. The .NET side gets "connected", "closed" and
// "failed: reason" through OnConsoleStatus.
import RFB from '../lib/novnc/core/rfb.js';
import { consoleUrl } from './console-url.js';

const XK_Return = 0xff0d;
const XK_Tab = 0xff09;

export function attach(element, path, dotnet) {
    const rfb = new RFB(element, consoleUrl(path), { wsProtocols: ['binary'] });
    rfb.scaleViewport = true;
    rfb.focusOnClick = true;
    rfb.addEventListener('connect', () => dotnet.invokeMethodAsync('OnConsoleStatus', 'connected'));
    rfb.addEventListener('disconnect', event =>
        dotnet.invokeMethodAsync('OnConsoleStatus', event.detail.clean ? 'closed' : 'failed: the connection was lost'));
    rfb.addEventListener('securityfailure', event =>
        dotnet.invokeMethodAsync('OnConsoleStatus', `failed: ${event.detail.reason || 'security negotiation failed'}`));

    return {
        ctrlAltDel() { rfb.sendCtrlAltDel(); },
        setScaled(on) { rfb.scaleViewport = on; },
        fullscreen() { element.requestFullscreen?.(); },
        // Clipboard to the guest: each character typed as a key press (the guest has no clipboard channel).
        typeText(text) {
            for (const ch of text) {
                const code = ch.codePointAt(0);
                const keysym = ch === '\n' ? XK_Return : ch === '\t' ? XK_Tab : code < 0x100 ? code : 0x01000000 + code;
                rfb.sendKey(keysym, null, true);
                rfb.sendKey(keysym, null, false);
            }
            rfb.focus();
        },
        dispose() { rfb.disconnect(); },
    };
}
