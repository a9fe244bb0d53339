using System.Text;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// GRUB 2's script language, as far as reading a grub.cfg for its menu needs: words with '…' and "…" quoting,
/// backslash escapes and $name / ${name} references; commands ended by newlines and ';'; # comments; and the
/// { … } blocks of menuentry, submenu and function. Nothing is executed: the result is a tree of commands whose
/// words are evaluated later against what is known of the variables.
/// </summary>
internal static class GrubScript
{
    public const int MaxCommands = 20_000;
    public const int MaxDepth = 16;

    /// <summary>A piece of a word: literal text, or a variable's name (<paramref name="Quoted"/> inside "…", so not split).</summary>
    internal readonly record struct Segment(string Text, bool IsVariable, bool Quoted = false);

    /// <summary>One word as written: its segments, unevaluated.</summary>
    internal sealed record Word(IReadOnlyList<Segment> Segments)
    {
        /// <summary>The word if it has no variables in it; null otherwise.</summary>
        public string? Literal => Segments.All(s => !s.IsVariable) ? string.Concat(Segments.Select(s => s.Text)) : null;

        /// <summary>Whether the word is exactly one reference to <paramref name="name"/> (like $menuentry_id_option).</summary>
        public bool IsOnly(string name) => Segments.Count == 1 && Segments[0].IsVariable && Segments[0].Text == name;

        /// <summary>
        /// The arguments the word becomes: as GRUB does, an unquoted variable's value is split at white space, so
        /// <c>linux /vmlinuz $kernelopts</c> passes each option on its own. Unknown variables are empty.
        /// </summary>
        public List<string> Fields(IReadOnlyDictionary<string, string> variables, ICollection<string> unresolved)
        {
            var fields = new List<string>();
            var current = new StringBuilder();
            bool any = false;
            foreach (var segment in Segments)
            {
                string value = segment.Text;
                if (segment.IsVariable)
                {
                    if (!variables.TryGetValue(segment.Text, out string? found))
                    {
                        unresolved.Add(segment.Text);
                        continue;
                    }

                    value = found;
                }

                if (!segment.IsVariable || segment.Quoted)
                {
                    current.Append(value);
                    any = true;
                    continue;
                }

                string[] parts = value.Split([' ', '\t', '\n'], StringSplitOptions.None);
                for (int i = 0; i < parts.Length; i++)
                {
                    if (i > 0 && (any || current.Length > 0))
                    {
                        fields.Add(current.ToString());
                        current.Clear();
                        any = false;
                    }

                    current.Append(parts[i]);
                    any |= parts[i].Length > 0;
                }
            }

            if (any || current.Length > 0)
            {
                fields.Add(current.ToString());
            }

            return fields;
        }

        /// <summary>The word's value: variables replaced, unknown ones empty and added to <paramref name="unresolved"/>.</summary>
        public string Evaluate(IReadOnlyDictionary<string, string> variables, ICollection<string> unresolved)
        {
            var text = new StringBuilder();
            foreach (var segment in Segments)
            {
                if (!segment.IsVariable)
                {
                    text.Append(segment.Text);
                }
                else if (variables.TryGetValue(segment.Text, out string? value))
                {
                    text.Append(value);
                }
                else
                {
                    unresolved.Add(segment.Text);
                }
            }

            return text.ToString();
        }
    }

    /// <summary>A command: its words, and the block after it when it ends in '{'.</summary>
    internal sealed record Command(IReadOnlyList<Word> Words, IReadOnlyList<Command>? Block)
    {
        public string Name => Words.Count > 0 ? Words[0].Literal ?? "" : "";
    }

    private enum TokenKind
    {
        Word,
        End,
        Open,
        Close,
    }

    private readonly record struct Token(TokenKind Kind, Word? Word);

    /// <summary>Parses a whole file. Unbalanced braces end the block they are in; nothing here throws on bad input.</summary>
    public static IReadOnlyList<Command> Parse(string text, List<string> notes)
    {
        var tokens = Lex(text);
        int position = 0;
        int commands = 0;
        var result = ParseBlock(tokens, ref position, depth: 0, ref commands, notes);
        if (commands > MaxCommands)
        {
            notes.Add($"grub.cfg: more than {MaxCommands} commands; the rest are ignored");
        }

        return result;
    }

    private static List<Command> ParseBlock(List<Token> tokens, ref int position, int depth, ref int commands, List<string> notes)
    {
        var block = new List<Command>();
        var words = new List<Word>();
        while (position < tokens.Count && commands <= MaxCommands)
        {
            var token = tokens[position++];
            switch (token.Kind)
            {
                case TokenKind.Word:
                    words.Add(token.Word!);
                    break;
                case TokenKind.End:
                    Flush(block, words, null, ref commands);
                    break;
                case TokenKind.Open:
                    if (depth >= MaxDepth)
                    {
                        notes.Add($"grub.cfg: blocks nested more than {MaxDepth} deep; the rest of the file is ignored");
                        position = tokens.Count;
                        break;
                    }

                    var inner = ParseBlock(tokens, ref position, depth + 1, ref commands, notes);
                    Flush(block, words, inner, ref commands);
                    break;
                case TokenKind.Close:
                    Flush(block, words, null, ref commands);
                    if (depth > 0)
                    {
                        return block;
                    }

                    break; // a stray '}' at the top: ignored
            }
        }

        Flush(block, words, null, ref commands);
        return block;
    }

    private static void Flush(List<Command> block, List<Word> words, IReadOnlyList<Command>? inner, ref int commands)
    {
        if (words.Count == 0 && inner is null)
        {
            return;
        }

        commands++;
        block.Add(new Command([.. words], inner));
        words.Clear();
    }

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var segments = new List<Segment>();
        var literal = new StringBuilder();
        bool inWord = false;
        bool quoted = false; // the word so far holds quoted text: a lone "{" in quotes is not a brace

        void EndLiteral()
        {
            if (literal.Length > 0)
            {
                segments.Add(new Segment(literal.ToString(), false));
                literal.Clear();
            }
        }

        void EndWord()
        {
            if (!inWord)
            {
                return;
            }

            EndLiteral();
            var word = new Word([.. segments]);
            if (!quoted && word.Literal is "{" or "}")
            {
                tokens.Add(new Token(word.Literal == "{" ? TokenKind.Open : TokenKind.Close, null));
            }
            else
            {
                tokens.Add(new Token(TokenKind.Word, word));
            }

            segments.Clear();
            inWord = false;
            quoted = false;
        }

        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c is ' ' or '\t' or '\r')
            {
                EndWord();
                i++;
            }
            else if (c is '\n' or ';')
            {
                EndWord();
                tokens.Add(new Token(TokenKind.End, null));
                i++;
            }
            else if (c == '#' && !inWord)
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '\\')
            {
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i += 2; // a continued line
                    continue;
                }

                inWord = true;
                if (i + 1 < text.Length)
                {
                    literal.Append(text[i + 1]);
                }

                i += 2;
            }
            else if (c == '\'')
            {
                inWord = quoted = true;
                int end = text.IndexOf('\'', i + 1);
                end = end < 0 ? text.Length : end;
                literal.Append(text, i + 1, end - i - 1);
                i = end + 1;
            }
            else if (c == '"')
            {
                inWord = quoted = true;
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '\n')
                    {
                        if (text[i + 1] != '\n')
                        {
                            literal.Append(text[i + 1]);
                        }

                        i += 2;
                    }
                    else if (text[i] == '$' && TryVariable(text, ref i, out string? name))
                    {
                        EndLiteral();
                        segments.Add(new Segment(name!, true, Quoted: true));
                    }
                    else
                    {
                        literal.Append(text[i++]);
                    }
                }

                i++;
            }
            else if (c == '$' && TryVariable(text, ref i, out string? variable))
            {
                inWord = true;
                EndLiteral();
                segments.Add(new Segment(variable!, true));
            }
            else
            {
                inWord = true;
                literal.Append(c);
                i++;
            }
        }

        EndWord();
        return tokens;
    }

    /// <summary>Reads $name, ${name} or a special ($?, $#, $1…) at <paramref name="i"/>, moving past it.</summary>
    private static bool TryVariable(string text, ref int i, out string? name)
    {
        name = null;
        if (i + 1 >= text.Length)
        {
            return false;
        }

        if (text[i + 1] == '{')
        {
            int end = text.IndexOf('}', i + 2);
            if (end < 0)
            {
                return false;
            }

            name = text[(i + 2)..end];
            i = end + 1;
            return true;
        }

        int start = i + 1;
        int stop = start;
        if (text[start] is '?' or '#' or '*' or '@')
        {
            stop = start + 1;
        }
        else
        {
            while (stop < text.Length && (char.IsAsciiLetterOrDigit(text[stop]) || text[stop] == '_'))
            {
                stop++;
            }
        }

        if (stop == start)
        {
            return false;
        }

        name = text[start..stop];
        i = stop;
        return true;
    }
}
