using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class VmCrashPolicy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "OnCrash",
                table: "VirtualMachines",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                // What the supervisor did for every VM before the policy was stored: leave it crashed.
                defaultValue: "Stay");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "OnCrash",
                table: "VirtualMachines");
        }
    }
}
