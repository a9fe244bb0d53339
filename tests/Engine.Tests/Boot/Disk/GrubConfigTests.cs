using Platform.Engine.Boot.Disk;

namespace Platform.Engine.Tests.Boot.Disk;

// grub.cfg as Debian's grub-mkconfig writes it, and the ways a default is said.
public sealed class GrubConfigTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static (BootEntry? Entry, List<string> Notes) Parse(string text, Dictionary<string, string>? environment = null)
    {
        var notes = new List<string>();
        return (GrubConfig.Parse("/boot/grub/grub.cfg", text, environment ?? NoEnvironment, notes), notes);
    }

    [Fact]
    public void Debian_default_is_the_first_entry_with_its_linux_initrd_and_root_search()
    {
        var (entry, notes) = Parse(ConfigSamples.DebianGrub());

        entry!.Source.Should().Be("GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux'");
        entry.Kernel.Should().Be("/boot/vmlinuz-6.1.0-13-amd64");
        entry.Initrds.Should().Equal("/boot/initrd.img-6.1.0-13-amd64");
        entry.CommandLine.Should().Be($"root=UUID={ConfigSamples.RootUuid} ro quiet");
        entry.RootUuid.Should().Be(Guid.Parse(ConfigSamples.RootUuid), "search --fs-uuid --set=root names the file system");
        entry.RootPartition.Should().BeNull("the search comes after set root='hd0,msdos1' and wins");
        notes.Should().BeEmpty();
    }

    [Fact]
    public void Next_entry_in_grubenv_wins_once()
    {
        var (entry, _) = Parse(ConfigSamples.DebianGrub(), new() { ["next_entry"] = "1>1" });

        entry!.Source.Should().EndWith("entry 'Debian GNU/Linux, with Linux 6.1.0-13-amd64 (recovery mode)'");
        entry.CommandLine.Should().EndWith("ro single");
    }

    [Fact]
    public void Saved_entry_names_an_entry_in_the_submenu_by_id()
    {
        var (entry, _) = Parse(ConfigSamples.DebianGrub(extra: "saved"),
            new() { ["saved_entry"] = $"gnulinux-advanced-{ConfigSamples.RootUuid}>gnulinux-6.1.0-12-amd64-advanced-{ConfigSamples.RootUuid}" });

        entry!.Kernel.Should().Be("/boot/vmlinuz-6.1.0-12-amd64");
        entry.Initrds.Should().Equal("/boot/initrd.img-6.1.0-12-amd64");
    }

    [Theory]
    [InlineData("1>2", "/boot/vmlinuz-6.1.0-12-amd64")]
    [InlineData("Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-12-amd64", "/boot/vmlinuz-6.1.0-12-amd64")]
    [InlineData("1", "/boot/vmlinuz-6.1.0-13-amd64")] // the submenu itself: its first entry
    [InlineData("Debian GNU/Linux", "/boot/vmlinuz-6.1.0-13-amd64")]
    public void Default_by_index_path_title_or_submenu(string wanted, string kernel)
    {
        var (entry, _) = Parse(ConfigSamples.DebianGrub(extra: "saved"), new() { ["saved_entry"] = wanted });

        entry!.Kernel.Should().Be(kernel);
    }

    [Fact]
    public void A_default_that_names_nothing_boots_the_first_linux_entry_and_says_so()
    {
        var (entry, notes) = Parse(ConfigSamples.DebianGrub(extra: "saved"), new() { ["saved_entry"] = "7" });

        entry!.Source.Should().EndWith("entry 'Debian GNU/Linux'");
        notes.Should().ContainSingle().Which.Should().Be("/boot/grub/grub.cfg: default \"7\" names no entry; the first Linux entry is booted");
    }

    [Fact]
    public void A_default_entry_without_linux_falls_back_to_the_first_linux_entry()
    {
        var (entry, notes) = Parse("""
            set default=1
            menuentry 'Debian' { linux /vmlinuz root=/dev/vda1 }
            menuentry 'Memory test' { linux16 /boot/memtest86+.bin }
            menuentry 'Firmware' { fwsetup }
            """.Replace("set default=1", "set default=2", StringComparison.Ordinal));

        entry!.Kernel.Should().Be("/vmlinuz");
        notes.Should().ContainSingle().Which.Should().Contain("'Firmware' boots no Linux kernel");
    }

    [Fact]
    public void Variables_from_grubenv_and_the_script_are_expanded_and_unknown_ones_left_out_with_a_note()
    {
        var (entry, notes) = Parse("""
            set console="console=ttyS0,115200"
            menuentry "Linux" {
                set extra=quiet
                linux ($root)/vmlinuz root=/dev/vda2 $console ${extra} $kernelopts $grub_platform "acpi_osi=Windows 2012"
                initrd ($root)/initrd.img $tuned_initrd
            }
            """, new() { ["kernelopts"] = "ro rhgb" });

        entry!.Kernel.Should().Be("/vmlinuz");
        entry.Initrds.Should().Equal(["()/initrd.img"], "the device prefix is dropped when the path is resolved");
        entry.CommandLine.Should().Be("root=/dev/vda2 console=ttyS0,115200 quiet ro rhgb \"acpi_osi=Windows 2012\"");
        notes.Should().BeEquivalentTo(
            "/boot/grub/grub.cfg: $tuned_initrd has no value; left out",
            "/boot/grub/grub.cfg: $grub_platform is known only to GRUB at boot; left out",
            "/boot/grub/grub.cfg: $root is known only to GRUB at boot; left out");
    }

    [Fact]
    public void A_device_prefix_names_the_partition()
    {
        var (entry, _) = Parse("menuentry x {\n linux (hd0,gpt2)/boot/vmlinuz root=/dev/vda2\n initrd (hd0,gpt2)/boot/initrd.img\n}");

        entry!.Kernel.Should().Be("/boot/vmlinuz");
        entry.RootPartition.Should().Be(2);
    }

    [Theory]
    [InlineData("hd0,msdos1", 1)]
    [InlineData("(hd0,gpt3)", 3)]
    [InlineData("hd1,5", 5)]
    [InlineData("hd0,msdos5", 5)]
    [InlineData("cd0", null)]
    public void Grub_partition_names(string device, int? number) => GrubConfig.ParsePartition(device).Should().Be(number);

    [Fact]
    public void Set_root_names_the_partition_when_no_search_follows()
    {
        var (entry, _) = Parse("menuentry x {\n set root='hd0,msdos2'\n linux /vmlinuz\n}");

        entry!.RootPartition.Should().Be(2);
        entry.RootUuid.Should().BeNull();
    }

    [Fact]
    public void Quoting_escapes_comments_and_line_continuations()
    {
        var (entry, _) = Parse("""
            # a comment with a { brace
            menuentry "It's \"quoted\"" --class os { # trailing comment
                linux /vmlinuz a='b c' d\ e "f\$g" \
                    h#i
            }
            """);

        entry!.Source.Should().EndWith("entry 'It's \"quoted\"'");
        entry.CommandLine.Should().Be("\"a=b c\" \"d e\" f$g h#i");
    }

    private const string ThreeEntries = "menuentry a { linux /a }\nmenuentry b { linux /b }\nmenuentry c { linux /c }\n";

    [Theory]
    [InlineData("set x=1\nif [ \"$x\" = 1 ]; then set default=1; else set default=2; fi\n", "/b")]
    [InlineData("if [ \"$x\" = 1 ]; then set default=1; elif [ -z \"$x\" ]; then set default=2; else set default=0; fi\n", "/c")]
    [InlineData("if [ x$feature_foo = xy ]; then set default=2; else set default=1; fi\n", "/b")] // GRUB's own: both, last wins
    [InlineData("if ! [ \"$x\" ]; then\n  set default=2\nelse\n  set default=1\nfi\n", "/b")] // "! [": a command's result: maybe
    [InlineData("if [ ! \"$x\" ]; then\n  set default=2\nelse\n  set default=1\nfi\n", "/c")]
    [InlineData("if [ -s $prefix/grubenv ]; then set default=1; fi\n", "/b")]
    public void Conditions_grub_mkconfig_writes_are_evaluated_where_the_variables_are_known(string header, string kernel)
    {
        var (entry, _) = Parse(header + ThreeEntries);

        entry!.Kernel.Should().Be(kernel);
    }

    [Fact]
    public void Conditions_nested_past_the_limit_are_all_maybe()
    {
        string deep = string.Concat(Enumerable.Repeat("if [ \"$x\" ]; then\n", 200)) + "set default=2\n"
            + string.Concat(Enumerable.Repeat("fi\n", 200)) + "if [ -z \"$x\" ]; then set default=1; fi\n";

        var (entry, _) = Parse(deep + ThreeEntries);

        entry!.Kernel.Should().Be("/b", "the outer if is false, so nothing inside counts, and the blocks close again");
    }

    [Fact]
    public void A_menu_from_blscfg_alone_is_no_entry_here()
    {
        var (entry, notes) = Parse("insmod blscfg\nblscfg\n");

        entry.Should().BeNull();
        notes.Should().ContainSingle().Which.Should().Contain("blscfg");
    }

    [Fact]
    public void Hostile_input_parses_without_throwing()
    {
        string deep = string.Concat(Enumerable.Repeat("menuentry x {\n", 5000)) + "linux /v\n";
        string unbalanced = "} }\n} menuentry 'a' { linux /vmlinuz \"unterminated";
        string loops = string.Concat(Enumerable.Repeat("if [ a ]; then\n", 10_000));

        var (nested, notes) = Parse(deep);
        nested.Should().BeNull("the kernel lies below the nesting limit");
        notes.Should().Contain(n => n.Contains("nested more than 16 deep", StringComparison.Ordinal));
        Parse(unbalanced).Entry!.Kernel.Should().Be("/vmlinuz");
        Parse(loops).Entry.Should().BeNull();
    }
}
