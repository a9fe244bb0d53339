using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm.Interop;

// The descriptor every wrapper owns: which numbers are valid, that it closes once, and that a lease holds it open.
public sealed class FileDescriptorHandleTests
{
    [Fact]
    public void Descriptor_zero_is_a_valid_handle()
    {
        // Not owned: the test process's stdin stays open.
        using var stdin = new FileDescriptorHandle(0, ownsHandle: false);

        stdin.IsInvalid.Should().BeFalse("0 is an ordinary descriptor number (SafeHandleZeroOrMinusOneIsInvalid got this wrong)");
        using var lease = stdin.Lease();
        lease.Fd.Should().Be(0);
    }

    [Fact]
    public void Minus_one_is_the_only_invalid_number()
    {
        using var unset = new FileDescriptorHandle();
        unset.IsInvalid.Should().BeTrue("what the marshaller fills in is -1 until a call returns a descriptor");
        using var failed = new FileDescriptorHandle(-1);
        failed.IsInvalid.Should().BeTrue();
        using var large = new FileDescriptorHandle(TestNative.SpareDescriptor, ownsHandle: false);
        large.IsInvalid.Should().BeFalse();

        var negative = () => new FileDescriptorHandle(-2);
        negative.Should().Throw<ArgumentOutOfRangeException>("no system call returns another negative descriptor");
    }

    [Fact]
    public void A_failed_call_returns_an_invalid_handle_that_closes_nothing()
    {
        using var missing = LibcNative.Open("/nonexistent/platform-interop-test", OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        missing.IsInvalid.Should().BeTrue();
        LibcNative.LastError.Should().Be(LibcNative.ENOENT, "the errno survives the handle's marshalling");
    }

    [Fact]
    public void Dispose_closes_the_descriptor()
    {
        var (read, write) = TestNative.Pipe();
        try
        {
            var handle = new FileDescriptorHandle(write);
            TestNative.ReadOnce(read).Should().Be(-TestNative.EAGAIN, "the write end is open and nothing was written");

            handle.Dispose();

            TestNative.ReadOnce(read).Should().Be(0, "the only write end is closed: end of file");
        }
        finally
        {
            TestNative.Close(read);
        }
    }

    [Fact]
    public void A_second_dispose_does_not_close_the_number_again()
    {
        // The handle owns a pipe's write end at a number of our choosing. Once it is closed, another pipe's write end
        // takes that number, as the next open in a busy process would; a second close would end that pipe.
        var (firstRead, firstWrite) = TestNative.Pipe();
        var (secondRead, secondWrite) = TestNative.Pipe();
        try
        {
            TestNative.Dup2(firstWrite, TestNative.SpareDescriptor).Should().Be(TestNative.SpareDescriptor);
            TestNative.Close(firstWrite);
            var handle = new FileDescriptorHandle(TestNative.SpareDescriptor);

            handle.Dispose();
            TestNative.ReadOnce(firstRead).Should().Be(0);

            TestNative.Dup2(secondWrite, TestNative.SpareDescriptor).Should().Be(TestNative.SpareDescriptor);
            TestNative.Close(secondWrite);
            handle.Dispose();
            handle.Close();

            TestNative.ReadOnce(secondRead).Should().Be(-TestNative.EAGAIN, "the number now belongs to the second pipe, which stays open");
        }
        finally
        {
            TestNative.Close(TestNative.SpareDescriptor);
            TestNative.Close(firstRead);
            TestNative.Close(secondRead);
        }
    }

    [Fact]
    public void A_lease_keeps_the_descriptor_open_across_a_dispose_until_it_ends()
    {
        var (read, write) = TestNative.Pipe();
        try
        {
            var handle = new FileDescriptorHandle(write);
            using (var lease = handle.Lease())
            {
                handle.Dispose();

                handle.IsDisposed.Should().BeTrue();
                handle.IsClosed.Should().BeFalse("the lease still holds it");
                var another = () => { using var l = handle.Lease(); };
                another.Should().Throw<ObjectDisposedException>("a disposed handle gives no new lease");
                lease.Fd.Should().Be(write);
                TestNative.ReadOnce(read).Should().Be(-TestNative.EAGAIN, "the lease holds the write end open");
                TestNative.WriteOnce(lease.Fd, [42]).Should().Be(1, "the leased number is still this pipe");
            }

            byte[] data = new byte[16];
            TestNative.ReadOnce(read, data).Should().Be(1);
            data[0].Should().Be(42);
            TestNative.ReadOnce(read).Should().Be(0, "the lease ended, so the dispose closed the write end");
            handle.IsClosed.Should().BeTrue();
        }
        finally
        {
            TestNative.Close(read);
        }
    }

    [Fact]
    public void A_disposed_handle_gives_no_lease_and_no_system_call()
    {
        var handle = LibcNative.Eventfd(0, LibcNative.EfdNonBlock | LibcNative.EfdCloseOnExec);
        handle.IsInvalid.Should().BeFalse();
        handle.Dispose();

        var lease = () => { using var l = handle.Lease(); };
        lease.Should().Throw<ObjectDisposedException>();
        var ioctl = () => LibcNative.Ioctl(handle, 0, 0);
        ioctl.Should().Throw<ObjectDisposedException>("the marshaller takes a reference for the call, and a closed handle has none to give");
    }
}
