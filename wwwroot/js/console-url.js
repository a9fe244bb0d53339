// The WebSocket URL of a dashboard path, on the page's own host (the bridges check the Origin).
export function consoleUrl(path) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}${path}`;
}
