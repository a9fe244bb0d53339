using Platform.Engine.Boot.Disk;

namespace Platform.Engine.Tests.Boot.Disk;

// extlinux.conf / syslinux.cfg as hand-written and as Alpine or U-Boot distro boot users write them.
public sealed class ExtlinuxConfigTests
{
    private static (BootEntry? Entry, List<string> Notes) Parse(string text, Dictionary<string, string>? files = null, string path = "/boot/extlinux/extlinux.conf")
    {
        var notes = new List<string>();
        return (ExtlinuxConfig.Parse(path, text, p => files?.GetValueOrDefault(p), notes), notes);
    }

    [Fact]
    public void Menu_default_wins_over_default_and_paths_stay_relative_to_the_config()
    {
        var (entry, notes) = Parse(ConfigSamples.Extlinux);

        entry!.Source.Should().Be("extlinux /boot/extlinux/extlinux.conf, label linux");
        entry.Kernel.Should().Be("../vmlinuz-6.1");
        entry.Initrds.Should().Equal("../initrd.img-6.1");
        entry.CommandLine.Should().Be("root=/dev/vda1 ro console=ttyS0 quiet");
        entry.RelativeTo.Should().Be("/boot/extlinux");
        notes.Should().BeEmpty();
    }

    [Fact]
    public void Default_names_a_label_case_insensitively_keywords_too()
    {
        var (entry, _) = Parse("""
            default Rescue
            label first
              kernel /vmlinuz-a
            LABEL rescue
              Kernel /vmlinuz-b
              initrd /initrd-b,/extra.cpio
              append initrd=/ignored root=/dev/vda2
            """);

        entry!.Kernel.Should().Be("/vmlinuz-b");
        entry.Initrds.Should().Equal("/initrd-b", "/extra.cpio");
        entry.CommandLine.Should().Be("root=/dev/vda2", "initrd= in APPEND is syslinux's own, not the kernel's");
    }

    [Fact]
    public void Initrd_in_append_counts_when_there_is_no_initrd_line_and_a_global_append_serves_labels()
    {
        var (entry, _) = Parse("""
            APPEND console=ttyS0 initrd=/boot/initrd.img
            DEFAULT debian
            LABEL debian
              LINUX /boot/vmlinuz
            """);

        entry!.Initrds.Should().Equal("/boot/initrd.img");
        entry.CommandLine.Should().Be("console=ttyS0");
    }

    [Fact]
    public void A_default_that_names_no_label_is_a_kernel_and_its_options()
    {
        var (entry, notes) = Parse("DEFAULT /vmlinuz root=/dev/vda1 ro\n");

        entry!.Kernel.Should().Be("/vmlinuz");
        entry.CommandLine.Should().Be("root=/dev/vda1 ro");
        notes.Should().ContainSingle().Which.Should().Contain("names no label");
    }

    [Fact]
    public void Com32_and_localboot_labels_are_passed_over()
    {
        var (entry, notes) = Parse("""
            DEFAULT local
            LABEL local
              LOCALBOOT 0
            LABEL menu
              KERNEL vesamenu.c32
            LABEL linux
              LINUX vmlinuz
              APPEND -
            """);

        entry!.Source.Should().EndWith("label linux");
        entry.CommandLine.Should().BeEmpty("APPEND - means none");
        notes.Should().ContainSingle().Which.Should().Contain("the DEFAULT label local boots no Linux kernel");
    }

    [Fact]
    public void Include_reads_another_file_relative_to_the_config_and_stops_at_a_depth()
    {
        var files = new Dictionary<string, string>
        {
            ["/boot/extlinux/entries.cfg"] = "LABEL inc\n LINUX /vmlinuz-inc\n MENU DEFAULT\nINCLUDE loop.cfg\n",
            ["/boot/extlinux/loop.cfg"] = "INCLUDE loop.cfg\n",
        };

        var (entry, notes) = Parse("INCLUDE entries.cfg\n", files);

        entry!.Kernel.Should().Be("/vmlinuz-inc");
        notes.Should().ContainSingle().Which.Should().Contain("nested more than 4 deep");
    }

    [Fact]
    public void No_linux_label_is_no_entry()
    {
        var (entry, notes) = Parse("DEFAULT hdt\nLABEL hdt\n COM32 hdt.c32\n");

        entry.Should().BeNull();
        notes.Should().Contain(n => n.Contains("no label boots a Linux kernel", StringComparison.Ordinal));
    }
}
