using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class VmInputDevices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Input",
                table: "VirtualMachines",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            // VMs with a display got platform-vmm's default until now: the virtio tablet and keyboard.
            migrationBuilder.Sql("UPDATE VirtualMachines SET Input = 'Virtio' WHERE DisplayEnabled = 1;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Input",
                table: "VirtualMachines");
        }
    }
}
