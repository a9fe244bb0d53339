using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Web.Tests.Endpoints;

/// <summary>The API's JSON conventions (camelCase, enums as strings) for test clients.</summary>
internal static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static Task<T?> ReadAsync<T>(this HttpResponseMessage response) =>
        response.Content.ReadFromJsonAsync<T>(Options, TestContext.Current.CancellationToken);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(Options, TestContext.Current.CancellationToken);
}
