using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class DisksAndSnapshots : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "FileName",
                table: "VmDisks",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Format",
                table: "VmDisks",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "VmSnapshots",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    VirtualMachineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmSnapshots", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VmSnapshots_VirtualMachines_VirtualMachineId",
                        column: x => x.VirtualMachineId,
                        principalTable: "VirtualMachines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a1"),
                column: "Privileges",
                value: 2047);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a2"),
                columns: new[] { "Description", "Privileges" },
                values: new object[] { "Create, change, run, snapshot and delete VMs, use images and networks.", 1599 });

            migrationBuilder.CreateIndex(
                name: "IX_VmSnapshots_VirtualMachineId_Name",
                table: "VmSnapshots",
                columns: new[] { "VirtualMachineId", "Name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "VmSnapshots");

            migrationBuilder.DropColumn(
                name: "FileName",
                table: "VmDisks");

            migrationBuilder.DropColumn(
                name: "Format",
                table: "VmDisks");

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a1"),
                column: "Privileges",
                value: 1023);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a2"),
                columns: new[] { "Description", "Privileges" },
                values: new object[] { "Create, change, run and delete VMs, use images and networks.", 575 });
        }
    }
}
