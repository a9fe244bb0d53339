// The graphical console: noVNC on a WebSocket to /vms/{id}/vnc. The .NET side gets "connected", "closed" and
// "failed: reason" through OnConsoleStatus.
import RFB from '../lib/novnc/core/rfb.js';
import { consoleUrl } from './console-url.js';

const XK_Return = 0xff0d;
const XK_Tab = 0xff09;
const XK_Shift_L = 0xffe1;
// What a US keyboard types with Shift held. A plain RFB key event names the symbol, and the VMM presses the key that
// carries it; Shift is a key of its own, which a viewer sends as the user holds it, so typed text must do the same
// (without it "Secret" arrives as "secret").
const SHIFTED_SYMBOLS = '~!@#$%^&*()_+{}|:"<>?';
const needsShift = ch => (ch >= 'A' && ch <= 'Z') || SHIFTED_SYMBOLS.includes(ch);

// Gives the console box the shape of the guest's picture (--vnc-aspect, see app.css), again whenever the guest changes
// its resolution: noVNC sizes its canvas to the framebuffer, so the canvas's width and height attributes say it.
function followPictureShape(element) {
    const canvas = element.querySelector('canvas');
    if (!canvas) return;
    const apply = () => {
        if (canvas.width > 0 && canvas.height > 0) element.style.setProperty('--vnc-aspect', `${canvas.width} / ${canvas.height}`);
    };
    new MutationObserver(apply).observe(canvas, { attributes: true, attributeFilter: ['width', 'height'] });
    apply();
}

export function attach(element, path, dotnet) {
    const rfb = new RFB(element, consoleUrl(path), { wsProtocols: ['binary'] });
    rfb.scaleViewport = true;
    followPictureShape(element);
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
                const shift = needsShift(ch);
                if (shift) rfb.sendKey(XK_Shift_L, 'ShiftLeft', true);
                rfb.sendKey(keysym, null, true);
                rfb.sendKey(keysym, null, false);
                if (shift) rfb.sendKey(XK_Shift_L, 'ShiftLeft', false);
            }
            rfb.focus();
        },
        dispose() { rfb.disconnect(); },
    };
}
