using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Platform.Engine.Control;

/// <summary>Writes the protocol's lines: replies echo the command's id verbatim, events carry a QMP-style timestamp.</summary>
internal static class ControlReplies
{
    public static byte[] Return(JsonElement? id, Action<Utf8JsonWriter> writeValue) => Line(writer =>
    {
        writer.WritePropertyName("return");
        writeValue(writer);
        WriteId(writer, id);
    });

    public static byte[] EmptyReturn(JsonElement? id) => Return(id, writer =>
    {
        writer.WriteStartObject();
        writer.WriteEndObject();
    });

    public static byte[] Error(JsonElement? id, string errorClass, string description) => Line(writer =>
    {
        writer.WriteStartObject("error");
        writer.WriteString("class", errorClass);
        writer.WriteString("desc", description);
        writer.WriteEndObject();
        WriteId(writer, id);
    });

    public static byte[] Event(string name, string? reason, DateTimeOffset at) => Line(writer =>
    {
        writer.WriteString("event", name);
        writer.WriteStartObject("data");
        if (reason is not null)
        {
            writer.WriteString("reason", reason);
        }

        writer.WriteEndObject();
        long microseconds = (at - DateTimeOffset.UnixEpoch).Ticks / 10;
        writer.WriteStartObject("timestamp");
        writer.WriteNumber("seconds", microseconds / 1_000_000);
        writer.WriteNumber("microseconds", microseconds % 1_000_000);
        writer.WriteEndObject();
    });

    public static byte[] Greeting(ControlGreeting greeting) => Line(writer =>
    {
        writer.WritePropertyName("greeting");
        JsonSerializer.Serialize(writer, greeting, ControlJson.Default.ControlGreeting);
    });

    private static void WriteId(Utf8JsonWriter writer, JsonElement? id)
    {
        if (id is { } value)
        {
            writer.WritePropertyName("id");
            value.WriteTo(writer);
        }
    }

    private static byte[] Line(Action<Utf8JsonWriter> writeMembers)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed escaping keeps quotes and apostrophes readable for people using socat; lines are never HTML.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writeMembers(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
