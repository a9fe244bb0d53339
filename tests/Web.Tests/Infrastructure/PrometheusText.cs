using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>One sample line of the Prometheus text format: <c>name{label="value",…} value</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4: every line a HELP, a TYPE or a sample, a TYPE at
/// most once and before its family's samples, legal metric and label names, escaped label values, float values, no
/// sample twice. Throws <see cref="FormatException"/> naming the line on anything else, so a test fails on output
/// Prometheus would refuse.
/// </summary>
public static partial class PrometheusText
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>();
        var seen = new HashSet<string>();
        string[] lines = text.Split('\n');
        if (lines[^1].Length != 0)
        {
            throw new FormatException("The exposition must end with a line feed.");
        }

        for (int i = 0; i < lines.Length - 1; i++)
        {
            string line = lines[i];
            string where = $"line {i + 1} \"{line}\"";
            if (line.StartsWith('#'))
            {
                var comment = CommentLine().Match(line);
                if (!comment.Success)
                {
                    // A plain comment is legal; a HELP or TYPE that does not parse is not.
                    if (line.StartsWith("# HELP", StringComparison.Ordinal) || line.StartsWith("# TYPE", StringComparison.Ordinal))
                    {
                        throw new FormatException($"Bad HELP or TYPE at {where}.");
                    }

                    continue;
                }

                string name = comment.Groups["name"].Value;
                if (comment.Groups["kind"].Value == "TYPE")
                {
                    string type = comment.Groups["rest"].Value;
                    if (!Types.Contains(type))
                    {
                        throw new FormatException($"Unknown type at {where}.");
                    }

                    if (!types.TryAdd(name, type))
                    {
                        throw new FormatException($"A second TYPE for {name} at {where}.");
                    }

                    if (samples.Any(s => FamilyOf(s.Name, types) == name))
                    {
                        throw new FormatException($"TYPE after samples of {name} at {where}.");
                    }
                }

                continue;
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            var sample = ParseSample(line, where);
            string key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
            if (!seen.Add(key))
            {
                throw new FormatException($"The same series twice at {where}.");
            }

            samples.Add(sample);
        }

        return samples;
    }

    /// <summary>The family a sample belongs to: itself, or a histogram's or summary's name before _bucket, _sum or _count.</summary>
    private static string FamilyOf(string sample, Dictionary<string, string> types)
    {
        foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(sample[..^suffix.Length]))
            {
                return sample[..^suffix.Length];
            }
        }

        return sample;
    }

    private static PrometheusSample ParseSample(string line, string where)
    {
        var name = MetricName().Match(line);
        if (!name.Success)
        {
            throw new FormatException($"No metric name at {where}.");
        }

        int at = name.Length;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (at < line.Length && line[at] == '{')
        {
            at++;
            while (line[at] != '}')
            {
                var label = LabelName().Match(line, at);
                if (!label.Success || label.Index != at || line.Length <= at + label.Length + 1 || line[at + label.Length] != '=' || line[at + label.Length + 1] != '"')
                {
                    throw new FormatException($"Bad label at {where}.");
                }

                at += label.Length + 2;
                var value = new StringBuilder();
                while (line[at] != '"')
                {
                    if (line[at] == '\\')
                    {
                        at++;
                        value.Append(line[at] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"Bad escape in a label value at {where}."),
                        });
                    }
                    else
                    {
                        value.Append(line[at]);
                    }

                    at++;
                }

                if (!labels.TryAdd(label.Value, value.ToString()))
                {
                    throw new FormatException($"Label {label.Value} twice at {where}.");
                }

                at++;
                if (line[at] == ',')
                {
                    at++;
                }
                else if (line[at] != '}')
                {
                    throw new FormatException($"Expected , or }} after a label at {where}.");
                }
            }

            at++;
        }

        string[] rest = line[at..].Split(' ', StringSplitOptions.None);
        if (rest.Length is < 2 or > 3 || rest[0].Length != 0)
        {
            throw new FormatException($"Expected one space, a value and perhaps a timestamp at {where}.");
        }

        if (rest.Length == 3 && !long.TryParse(rest[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"Bad timestamp at {where}.");
        }

        return new PrometheusSample(name.Value, labels, ParseValue(rest[1], where));
    }

    private static double ParseValue(string value, string where) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when FloatValue().IsMatch(value) => double.Parse(value, CultureInfo.InvariantCulture),
        _ => throw new FormatException($"Bad value \"{value}\" at {where}."),
    };

    [GeneratedRegex(@"^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) ?(?<rest>.*)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"[a-zA-Z_][a-zA-Z0-9_]*")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")]
    private static partial Regex FloatValue();
}
