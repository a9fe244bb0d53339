using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Vnc;
using Platform.Engine.Vnc.Encoders;

namespace Platform.Engine.Tests.Vnc.Encoders;

/// <summary>
/// Our zlib streams through noVNC's own inflater (its core/inflator.js over its vendored pako, the files the dashboard
/// serves, run by Node): a level change in the middle of a stream — what the link adaptation and noVNC's compression
/// setting both cause — must leave a stream noVNC still follows. Resetting the stream instead (Tight's reset bits) made
/// noVNC fail with "zlib inflate failed" on the next back-reference (docs/architecture.md, "Adapting to the link").
/// </summary>
public sealed class NoVncInflaterTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "novnc-inflate-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task A_stream_whose_level_changes_twice_is_inflated_by_novnc_chunk_by_chunk_to_the_same_bytes()
    {
        // Text-like chunks that repeat each other, so every chunk's compressor wants to refer back across chunks.
        var chunks = Enumerable.Range(0, 12)
            .Select(i => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 400).Select(line => $"line {line % 37} of chunk {i % 3}: the quick brown fox\n"))))
            .ToList();
        using var channel = new ZlibChannel();
        var sent = new List<byte[]>();
        for (int i = 0; i < chunks.Count; i++)
        {
            if (i is 4 or 8)
            {
                channel.SetLevel(i == 4 ? 9 : 1); // from the first level (6) to 9, then to 1
            }

            var output = new RfbBuffer();
            channel.Write(chunks[i], output);
            channel.Flush(output);
            sent.Add(output.WrittenSpan.ToArray());
        }

        sent.Skip(4).Should().AllSatisfy(c => c.Take(2).Should().NotEqual(new byte[] { 0x78, 0xDA }, "a level change continues the stream: no second zlib header"));
        string said = await InflateWithNoVncAsync(chunks, sent);
        said.Should().Be($"ok {chunks.Count}");
    }

    /// <summary>Runs noVNC's Inflator over <paramref name="sent"/>, one inflate(expected size) per chunk as its Tight and ZRLE decoders do.</summary>
    private async Task<string> InflateWithNoVncAsync(List<byte[]> chunks, List<byte[]> sent)
    {
        // The served noVNC is plain ES modules without a package.json: copied beside one that says so, for any Node.
        string served = Path.Combine(TestGuests.RepositoryRoot, "wwwroot", "lib", "novnc");
        File.Exists(Path.Combine(served, "core", "inflator.js")).Should().BeTrue("the build fetches noVNC (npm) into wwwroot/lib");
        foreach (string file in Directory.EnumerateFiles(served, "*.js", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(_folder, Path.GetRelativePath(served, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        await File.WriteAllTextAsync(Path.Combine(_folder, "package.json"), """{ "type": "module" }""", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_folder, "chunks.json"), JsonSerializer.Serialize(
            chunks.Select((c, i) => new { expected = Convert.ToBase64String(c), data = Convert.ToBase64String(sent[i]) })), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_folder, "inflate.js"), """
            import fs from 'node:fs';
            import Inflator from './core/inflator.js';
            const chunks = JSON.parse(fs.readFileSync(new URL('./chunks.json', import.meta.url)));
            const inflator = new Inflator();
            chunks.forEach((chunk, i) => {
                const expected = Buffer.from(chunk.expected, 'base64');
                inflator.setInput(Buffer.from(chunk.data, 'base64'));
                let out;
                try { out = Buffer.from(inflator.inflate(expected.length)); }
                catch (e) { console.log(`chunk ${i}: ${e.message} (${inflator.strm.msg})`); process.exit(0); }
                inflator.setInput(null);
                if (!out.equals(expected)) { console.log(`chunk ${i}: different bytes`); process.exit(0); }
            });
            console.log(`ok ${chunks.length}`);
            """, TestContext.Current.CancellationToken);

        using var node = Process.Start(new ProcessStartInfo("node", [Path.Combine(_folder, "inflate.js")]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = await node.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string errors = await node.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await node.WaitForExitAsync(TestContext.Current.CancellationToken);
        node.ExitCode.Should().Be(0, errors);
        return output.Trim();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
