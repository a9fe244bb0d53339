// The serial console: xterm.js on a WebSocket to /vms/{id}/serial. Output arrives as bytes; typed keys leave as
// UTF-8 bytes. The .NET side gets "connected"/"closed" through OnConsoleStatus.
import { Terminal } from '../lib/xterm/xterm.mjs';
import { FitAddon } from '../lib/xterm/addon-fit.mjs';
import { consoleUrl } from './console-url.js';

export function attach(element, path, dotnet) {
    const term = new Terminal({ convertEol: true, cursorBlink: true, scrollback: 5000, fontSize: 14 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();

    const socket = new WebSocket(consoleUrl(path));
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => dotnet.invokeMethodAsync('OnConsoleStatus', 'connected');
    socket.onclose = () => dotnet.invokeMethodAsync('OnConsoleStatus', 'closed');
    socket.onmessage = event => term.write(new Uint8Array(event.data));
    const encoder = new TextEncoder();
    const typing = term.onData(data => {
        if (socket.readyState === WebSocket.OPEN) {
            socket.send(encoder.encode(data));
        }
    });
    const resize = new ResizeObserver(() => fit.fit());
    resize.observe(element);
    term.focus();

    return {
        // Tests and the toolbar read what the terminal shows.
        text() {
            const buffer = term.buffer.active;
            const lines = [];
            for (let i = 0; i < buffer.length; i++) {
                lines.push(buffer.getLine(i).translateToString(true));
            }
            return lines.join('\n');
        },
        dispose() {
            resize.disconnect();
            typing.dispose();
            socket.onclose = null;
            socket.close();
            term.dispose();
        },
    };
}
