using static Platform.Engine.Boot.Disk.GrubScript;

namespace Platform.Engine.Boot.Disk;

/// <summary>Whether a command of a grub.cfg runs, as far as can be told without GRUB.</summary>
internal enum Certainty
{
    No,
    Maybe,
    Yes,
}

/// <summary>
/// Walks a block of GRUB commands deciding which run: <c>if</c>/<c>elif</c>/<c>else</c>/<c>fi</c> with conditions of
/// the forms grub-mkconfig writes (<c>[ "${next_entry}" ]</c>, <c>[ -z "$x" ]</c>, <c>[ x$a = xy ]</c>, <c>!=</c>)
/// evaluated over the known variables; a condition on what only GRUB knows (its features, platform, files, the
/// result of a command) is "maybe", and so is a loop's body. Variables are grubenv's plus those the script sets; one
/// never set is empty, as in GRUB, except GRUB's own (feature_*, grub_*, prefix, root, cmdpath…), which are unknown.
/// </summary>
internal sealed class GrubEvaluator
{
    private const int MaxFrames = 64;

    private readonly Dictionary<string, string> _variables;
    private readonly Stack<Frame> _frames = new();

    /// <summary>Blocks opened past <see cref="MaxFrames"/>: not tracked one by one, everything in them is "maybe".</summary>
    private int _overflow;

    private sealed class Frame(Certainty branch, Certainty taken)
    {
        public Certainty Branch { get; set; } = branch;

        /// <summary>Whether an earlier branch of this if was taken.</summary>
        public Certainty Taken { get; set; } = taken;
    }

    public GrubEvaluator(IReadOnlyDictionary<string, string> variables)
    {
        _variables = new Dictionary<string, string>(variables, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, string> Variables => _variables;

    /// <summary>Sets a variable whose value is known.</summary>
    public void Set(string name, string value) => _variables[name] = value;

    /// <summary>Whether the variable's value is beyond this evaluator: GRUB's own, set at run time.</summary>
    public static bool IsGrubRuntime(string name) =>
        name.StartsWith("feature_", StringComparison.Ordinal) || name.StartsWith("grub_", StringComparison.Ordinal)
        || name.StartsWith("net_", StringComparison.Ordinal) || name.All(char.IsAsciiDigit)
        || name is "prefix" or "root" or "cmdpath" or "?" or "#" or "*" or "@" or "chosen" or "fw_path" or "pager" or "lang"
            or "locale_dir" or "secondary_locale_dir" or "icondir" or "theme" or "gfxmode" or "check_signatures";

    /// <summary>The word's value: a variable never set is empty; null when it needs one of GRUB's own.</summary>
    public string? Evaluate(Word word, ICollection<string>? unset = null)
    {
        var missing = new List<string>();
        string value = word.Evaluate(_variables, missing);
        if (missing.Any(IsGrubRuntime))
        {
            return null;
        }

        foreach (string name in missing)
        {
            unset?.Add(name);
        }

        return value;
    }

    /// <summary>The commands of <paramref name="block"/> that may run, each with how sure it is to run.</summary>
    /// <remarks>Structural words (if, then, else, fi, …) are consumed here; what follows them on the line is the command.</remarks>
    public IEnumerable<(Command Command, Certainty Runs)> Walk(IReadOnlyList<Command> block)
    {
        int depth = _frames.Count;
        foreach (var original in block)
        {
            var command = original;
            while (command.Words.Count > 0)
            {
                string name = command.Name;
                var rest = command with { Words = [.. command.Words.Skip(1)] };
                if (name is "then" or "do")
                {
                    command = rest;
                }
                else if (name is "else" or "elif" && _overflow > 0)
                {
                    command = name == "else" ? rest : command with { Words = [] };
                }
                else if (name == "else" && _frames.Count > depth)
                {
                    var frame = _frames.Peek();
                    frame.Branch = Not(frame.Taken);
                    frame.Taken = Certainty.Yes;
                    command = rest;
                }
                else if (name is "if" or "elif")
                {
                    var condition = Condition(rest.Words);
                    if (name == "if" || _frames.Count <= depth)
                    {
                        Push(condition, condition);
                    }
                    else
                    {
                        var frame = _frames.Peek();
                        frame.Branch = And(Not(frame.Taken), condition);
                        frame.Taken = Or(frame.Taken, condition);
                    }

                    command = command with { Words = [] };
                }
                else if (name is "while" or "until" or "for")
                {
                    Push(Certainty.Maybe, Certainty.Maybe);
                    command = command with { Words = [] };
                }
                else if (name is "fi" or "done")
                {
                    if (_overflow > 0)
                    {
                        _overflow--;
                    }
                    else if (_frames.Count > depth)
                    {
                        _frames.Pop();
                    }

                    command = rest;
                }
                else
                {
                    break;
                }
            }

            if (command.Words.Count == 0 && command.Block is null)
            {
                continue;
            }

            var runs = Current();
            if (runs != Certainty.No)
            {
                yield return (command, runs);
            }
        }

        while (_frames.Count > depth)
        {
            _frames.Pop();
        }

        if (_frames.Count < MaxFrames)
        {
            _overflow = 0;
        }
    }

    private void Push(Certainty branch, Certainty taken)
    {
        // Deeper nesting than any generated grub.cfg has: counted, not kept, and everything inside is "maybe".
        if (_frames.Count >= MaxFrames)
        {
            _overflow++;
            return;
        }

        _frames.Push(new Frame(branch, taken));
    }

    private Certainty Current()
    {
        if (_overflow > 0)
        {
            return _frames.Any(f => f.Branch == Certainty.No) ? Certainty.No : Certainty.Maybe;
        }

        var result = Certainty.Yes;
        foreach (var frame in _frames)
        {
            result = And(result, frame.Branch);
        }

        return result;
    }

    /// <summary>Evaluates <c>[ … ]</c> and <c>test …</c>; anything else (a command's success) is "maybe".</summary>
    private Certainty Condition(IReadOnlyList<Word> words)
    {
        if (words.Count == 0)
        {
            return Certainty.Maybe;
        }

        List<Word> operands;
        if (words[0].Literal == "[" && words[^1].Literal == "]")
        {
            operands = [.. words.Skip(1).Take(words.Count - 2)];
        }
        else if (words[0].Literal == "test")
        {
            operands = [.. words.Skip(1)];
        }
        else
        {
            return Certainty.Maybe;
        }

        bool negate = operands.Count > 0 && operands[0].Literal == "!";
        if (negate)
        {
            operands.RemoveAt(0);
        }

        var values = operands.Select(w => Evaluate(w)).ToList();
        if (values.Any(v => v is null))
        {
            return Certainty.Maybe;
        }

        bool? result = (values.Count, values.Count > 0 ? operands[0].Literal : null) switch
        {
            (1, _) => values[0]!.Length > 0,
            (2, "-n") => values[1]!.Length > 0,
            (2, "-z") => values[1]!.Length == 0,
            (3, _) when operands[1].Literal is "=" or "==" => values[0] == values[2],
            (3, _) when operands[1].Literal == "!=" => values[0] != values[2],
            _ => null, // -s, -f, -e, -d (files) and the rest
        };
        return result switch
        {
            null => Certainty.Maybe,
            bool value => value != negate ? Certainty.Yes : Certainty.No,
        };
    }

    private static Certainty Not(Certainty value) => value switch
    {
        Certainty.Yes => Certainty.No,
        Certainty.No => Certainty.Yes,
        _ => Certainty.Maybe,
    };

    private static Certainty And(Certainty a, Certainty b) =>
        a == Certainty.No || b == Certainty.No ? Certainty.No : a == Certainty.Yes && b == Certainty.Yes ? Certainty.Yes : Certainty.Maybe;

    private static Certainty Or(Certainty a, Certainty b) =>
        a == Certainty.Yes || b == Certainty.Yes ? Certainty.Yes : a == Certainty.No && b == Certainty.No ? Certainty.No : Certainty.Maybe;
}
